import os

from django.core.asgi import get_asgi_application

from isocert.core.checks import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
refuse_unsafe_settings()
application = get_asgi_application()
