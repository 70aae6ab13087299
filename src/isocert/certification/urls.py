from .urls_public import urlpatterns as public_patterns
from .urls_registry import urlpatterns as registry_patterns
from .urls_signing import urlpatterns as signing_patterns
from .urls_staff import urlpatterns as staff_patterns

urlpatterns = [*public_patterns, *signing_patterns, *staff_patterns, *registry_patterns]
