"""Shared fixtures: the named cast and their organizations.

Alice owns Nordlicht Aluminium (ISO 50001 manufacturer), Bob edits it, Vera views
it, Charlie owns Brightpath Services and must never see anything of Nordlicht's. CB staff:
Rita reviews, Adam audits, Dora decides, Ada administers. Staff have a TOTP
authenticator, as the portal requires of them.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import setting_changed
from factories import PASSING_ASSESSMENT, client_for, complete_application_data, make_user


def pytest_configure(config):
    # Before any task backend, hasher or cache is first used.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    # django.setup() may already have made the configured backend (an admin module that
    # imports a task does): Django's own handler drops it when told the setting changed.
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test run's own key (production refuses to start without one: core/checks.py).
    settings.SECRET_KEY = "test-run-only-secret-key-" + "x" * 40
    # And its own certificate signing key (production refuses to start without one too).
    from isocert.core.keys import new_private_pem

    settings.CERTIFICATE_SIGNING_KEY = new_private_pem().decode("ascii")
    settings.CERTIFICATE_SIGNING_KEY_FILE = None
    # WhiteNoise looks for collected static files; the tests serve from the app dirs.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run transactional tests last.

    They end by emptying every table, the catalog of the data migration included;
    pytest-django already moves them after the ``db`` tests, but tests that reach
    the database only through ``request.getfixturevalue`` look database-free to it.
    """
    items.sort(key=_is_transactional)


@pytest.fixture(autouse=True)
def _catalog_for_transactional_tests(request):
    """A transactional test ends by emptying every table, the catalog included;
    the next one reloads it (standards, sectors, countries) before it starts."""
    if not _is_transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from isocert.catalog.loader import load_catalog
    from isocert.catalog.models import Country

    if not Country.objects.exists():
        load_catalog(apps.get_model)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def alice(db):
    return make_user("alice@nordlicht.example", "Alice Owner")


@pytest.fixture
def bob(db):
    return make_user("bob@nordlicht.example", "Bob Editor")


@pytest.fixture
def charlie(db):
    return make_user("charlie@brightpath.example", "Charlie Owner")


@pytest.fixture
def rita(db):
    return make_user("rita@cb.example", "Rita Reviewer", roles=["reviewer"])


@pytest.fixture
def adam(db):
    return make_user("adam@cb.example", "Adam Auditor", roles=["auditor"])


@pytest.fixture
def dora(db):
    return make_user("dora@cb.example", "Dora Decider", roles=["decision_maker"])


@pytest.fixture
def ada(db):
    return make_user("ada@cb.example", "Ada Administrator", roles=["administrator"])


@pytest.fixture
def nordlicht(alice, bob):
    """Alice's organization (Bob is an editor) with a central function and a plant."""
    from isocert.accounts.models import Membership
    from isocert.accounts.services import add_site, create_organization

    organization = create_organization(actor=alice, legal_name="Nordlicht Aluminium GmbH",
                                       country="DE",
                                       registered_address="Hafenstraße 12, 28217 Bremen",
                                       sector_codes=[17],
                                       scope_statement="Die casting of aluminium parts.")
    add_site(organization=organization, actor=alice, name="Bremen head office",
             address="Hafenstraße 12, Bremen", effective_personnel=180, shifts=3)
    add_site(organization=organization, actor=alice, name="Oldenburg plant",
             address="Industrieweg 4, Oldenburg", effective_personnel=95, shifts=2)
    Membership.objects.create(organization=organization, user=bob, role=Membership.Role.EDITOR)
    return organization


@pytest.fixture
def vera(nordlicht):
    """A viewer of Nordlicht: reads, never writes."""
    from isocert.accounts.models import Membership

    user = make_user("vera@nordlicht.example", "Vera Viewer")
    Membership.objects.create(organization=nordlicht, user=user, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def brightpath(charlie):
    from isocert.accounts.services import add_site, create_organization

    organization = create_organization(actor=charlie, legal_name="Brightpath Services Ltd",
                                       country="GB", registered_address="4 Queen Street, Leeds",
                                       sector_codes=[35], scope_statement="Facility management.")
    add_site(organization=organization, actor=charlie, name="Leeds office",
             address="4 Queen Street, Leeds", effective_personnel=42)
    return organization


@pytest.fixture
def draft(nordlicht, alice):
    """A complete ISO 50001 draft of Nordlicht's, ready to submit."""
    from isocert.registration.services import create_application

    return create_application(organization=nordlicht, actor=alice,
                              **complete_application_data())


@pytest.fixture
def submitted(draft, alice):
    from isocert.registration.services import submit_application

    return submit_application(application=draft, actor=alice)


@pytest.fixture
def under_review(submitted, rita):
    from isocert.registration.services import start_review

    return start_review(application=submitted, actor=rita)


@pytest.fixture
def registered(under_review, rita):
    from isocert.registration.services import record_preliminary_assessment, register_application

    record_preliminary_assessment(application=under_review, actor=rita, **PASSING_ASSESSMENT)
    return register_application(application=under_review, actor=rita)


@pytest.fixture
def information_requested(under_review, rita):
    from isocert.registration.services import request_information

    return request_information(application=under_review, actor=rita,
                               message="Send the energy review.")


@pytest.fixture
def resubmitted(information_requested, alice):
    from isocert.registration.services import resubmit_application

    return resubmit_application(application=information_requested, actor=alice,
                                response="Energy review attached.")


@pytest.fixture
def declined(under_review, rita):
    from isocert.registration.services import decline_application

    return decline_application(application=under_review, actor=rita, reason="Out of our scope.")


@pytest.fixture
def api_client():
    """A function: ``api_client(user)`` -> a logged-in Django test client."""
    return client_for


@pytest.fixture(autouse=True)
def _lookup_counts_stay_in_their_test(monkeypatch):
    """Verification lookups are counted in memory and flushed later (at exit at the
    latest); a test's counts must neither reach the next test nor outlive its database.
    Due flushes run in the request's thread, inside the test's transaction (a background
    thread has its own connection: ``test_public_api`` tests that path on its own)."""
    from isocert.registry import lookups, vocabulary

    monkeypatch.setattr(lookups, "FLUSH_IN_BACKGROUND", False)
    yield
    lookups._counter.take()
    vocabulary.VOCABULARY.clear()  # word ids are reused after the test's rollback


@pytest.fixture(autouse=True)
def _public_rate_limit_per_test():
    """The public registry's budget per address is counted in this process's memory
    (API and pages alike): each test starts with a fresh one."""
    from isocert.registry.ratelimit import PUBLIC_THROTTLE

    PUBLIC_THROTTLE.reset()
