import os

from asgiref.wsgi import WsgiToAsgi
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from isocert.core.checks import refuse_unsafe_settings
from isocert.core.gcfreeze import install as install_gc_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
refuse_unsafe_settings()
django_application = get_asgi_application()
install_gc_freeze()  # core/gcfreeze.py: after the first request

# The public verification's front door, as in ``isocert.wsgi``: the same WSGI code, run in
# a thread, for GET/HEAD of /api/v1/public/certificates and .../{number}.
from isocert.registry.api_public import PublicVerificationApp  # noqa: E402

_front_door = WsgiToAsgi(PublicVerificationApp(get_wsgi_application()))


async def application(scope, receive, send):
    if (scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
            and PublicVerificationApp.serves(scope.get("path", ""))):
        return await _front_door(scope, receive, send)
    return await django_application(scope, receive, send)
