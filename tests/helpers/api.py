"""Assertions on /api/v1/ answers."""


def assert_error(response, status: int, code: str, *fields: str,
                 exact_fields: bool = False) -> dict:
    """The one error shape, with the given status, code and field names (with
    ``exact_fields``, those names and no others).

    The body is JSON (``response.json()`` of Django's test client refuses any other
    Content-Type; the check below says so in the failure)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"].strip()
    if exact_fields:
        assert sorted(error["fields"]) == sorted(fields), error
    for field in fields:
        assert field in error["fields"], error
    return error
