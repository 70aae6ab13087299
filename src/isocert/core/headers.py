"""Response headers that Django's own middleware does not set.

Content-Security-Policy comes from Django's ``ContentSecurityPolicyMiddleware``
(``SECURE_CSP``) and Permissions-Policy from django-permissions-policy
(``PERMISSIONS_POLICY``); see ``settings.py`` and docs/deployment.md.
"""

from django.utils.cache import add_never_cache_headers


class PrivateResponsesNotStoredMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in person or API token.

    A dashboard, an API answer or a private download may otherwise stay in the
    browser's cache or a shared proxy's, readable by the next person at that computer
    or behind that proxy (OWASP ASVS 4.0 V8.2.1: anti-caching headers so that
    sensitive data is not cached). Anonymous answers — the landing page, ``/verify/``,
    the public verification API — are left cacheable; static files never reach this
    middleware (WhiteNoise answers them above it).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # django-ninja sets ``request.auth`` when an operation's authentication (a
        # personal access token or the session) accepted the request.
        if (user is not None and user.is_authenticated) or getattr(request, "auth", None):
            add_never_cache_headers(response)
        return response
