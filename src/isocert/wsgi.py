import os

from django.core.wsgi import get_wsgi_application

from isocert.core.checks import refuse_unsafe_settings
from isocert.core.gcfreeze import install as install_gc_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
refuse_unsafe_settings()
django_application = get_wsgi_application()
install_gc_freeze()  # core/gcfreeze.py: after the first request

# The public verification API's front door, in front of the whole Django stack.
from isocert.registry.api_public import PublicVerificationApp  # noqa: E402

application = PublicVerificationApp(django_application)
