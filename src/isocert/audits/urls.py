from .urls_conduct import urlpatterns as conduct_patterns
from .urls_programme import urlpatterns as programme_patterns

urlpatterns = [*programme_patterns, *conduct_patterns]
