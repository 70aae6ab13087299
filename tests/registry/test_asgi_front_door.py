"""``isocert.asgi`` serves the public registry API through the same front door as
``isocert.wsgi``."""

import asyncio

import isocert.asgi


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path}


def test_the_verification_path_goes_to_the_front_door_and_the_rest_to_django(monkeypatch):
    served = []

    def recorder(name):
        async def app(scope, receive, send):
            served.append((name, scope["method"], scope["path"]))
        return app

    monkeypatch.setattr(isocert.asgi, "_front_door", recorder("front door"))
    monkeypatch.setattr(isocert.asgi, "django_application", recorder("django"))

    for method, path in [("GET", "/api/v1/public/certificates/C-1"),
                         ("HEAD", "/api/v1/public/certificates/C-1"),
                         ("POST", "/api/v1/public/certificates/C-1"),
                         ("GET", "/api/v1/public/certificates"),
                         ("GET", "/api/v1/public/certificates/"),
                         ("GET", "/api/v1/public/certificatesx"),
                         ("GET", "/verify/C-1")]:
        asyncio.run(isocert.asgi.application(_scope(method, path), None, None))

    assert served == [("front door", "GET", "/api/v1/public/certificates/C-1"),
                      ("front door", "HEAD", "/api/v1/public/certificates/C-1"),
                      ("django", "POST", "/api/v1/public/certificates/C-1"),
                      ("front door", "GET", "/api/v1/public/certificates"),
                      ("django", "GET", "/api/v1/public/certificates/"),
                      ("django", "GET", "/api/v1/public/certificatesx"),
                      ("django", "GET", "/verify/C-1")]
