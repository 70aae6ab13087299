from .urls_public import urlpatterns as public_patterns
from .urls_registry import urlpatterns as registry_patterns

urlpatterns = [*public_patterns, *registry_patterns]
