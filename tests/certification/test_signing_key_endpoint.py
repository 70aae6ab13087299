"""GET /.well-known/isocert-signing-key: the public key, for anyone."""

import pytest
from django.test import Client
from django.urls import reverse
from factories import client_for, make_user
from signing_helpers import BASE_CONTENT, key_file  # noqa: F401

from isocert.certification import signing

pytestmark = pytest.mark.usefixtures("key_file")

URL = "/.well-known/isocert-signing-key"


def test_url_name():
    assert reverse("signing_key") == URL


@pytest.mark.django_db
def test_anonymous_gets_a_key_that_verifies_certificate_signatures():
    response = Client().get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["X-Key-Id"] == signing.public_key_id()
    pem = response.content.decode()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    signed_data, signature = signing.sign_certificate_data(BASE_CONTENT)
    assert signing.verify_signature(signed_data, signature, public_key_pem=pem).valid


@pytest.mark.django_db
def test_head_is_allowed_and_writes_are_not():
    client = Client()

    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405
    assert client.put(URL).status_code == 405


@pytest.mark.django_db
def test_staff_without_mfa_are_not_sent_to_mfa_setup():
    """The key is public: the staff MFA gate must not stand in front of it."""
    admin = make_user("root@cb.example", "Root")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])

    response = client_for(admin).get(URL)

    assert response.status_code == 200
    assert response["X-Key-Id"] == signing.public_key_id()
