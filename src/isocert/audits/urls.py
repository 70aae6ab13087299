from .conduct.urls import urlpatterns as conduct_patterns
from .programme.urls import urlpatterns as programme_patterns

urlpatterns = [*programme_patterns, *conduct_patterns]
