from .urls_signing import urlpatterns as signing_patterns
from .urls_staff import urlpatterns as staff_patterns

urlpatterns = [*signing_patterns, *staff_patterns]
