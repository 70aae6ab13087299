"""The public registry's state shared through Redis (``REDIS_URL``): the rate limit, the
lookup counters and the directory's cache version, against the real Redis on 127.0.0.1
under a key prefix of each test's own. Two ``PublicRateThrottle`` objects stand for two
server processes; a process without Redis is the default and is tested elsewhere
(test_ratelimit, test_public_api, test_directory)."""

from types import SimpleNamespace

import pytest
import redis
from django.test import Client
from helpers.shared_redis import TEST_REDIS_URL, delete_prefixed, new_prefix, reachable_redis
from registry_helpers import clear_public_state, make_certificate
from registry_io_helpers import csv_text, import_text, row

from isocert.certification.lifecycle import set_certificate_confidentiality
from isocert.certification.models import Certificate
from isocert.core import shared_store
from isocert.core.errors import NotPermitted
from isocert.core.models import AuditEvent
from isocert.registry import directory, lookups, ratelimit

pytestmark = pytest.mark.django_db
NOW = 1_800_000_000.0  # inside one minute's window: 1_800_000_000 // 60 * 60 + 0..59


@pytest.fixture
def shared(settings, monkeypatch):
    """Redis configured as in production, with this test's own key prefix."""
    client = reachable_redis()
    prefix = new_prefix()
    monkeypatch.setattr(shared_store, "_resting_until", 0.0)
    settings.REDIS_URL = TEST_REDIS_URL
    settings.REDIS_KEY_PREFIX = prefix
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: NOW))
    clear_public_state()
    yield SimpleNamespace(client=client, prefix=prefix)
    clear_public_state()
    delete_prefixed(client, prefix)


@pytest.fixture
def unreachable(settings, monkeypatch):
    """A Redis that does not answer (nothing listens on port 1)."""
    monkeypatch.setattr(shared_store, "_resting_until", 0.0)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.REDIS_KEY_PREFIX = new_prefix()


# --- the rate limit -----------------------------------------------------------------------

def test_two_processes_share_one_budget_per_client(shared, settings):
    settings.PUBLIC_API_RATE = "5/min"
    server_a, server_b = ratelimit.PublicRateThrottle(), ratelimit.PublicRateThrottle()

    answers = [(server_a if n % 2 else server_b).hit("203.0.113.7") for n in range(8)]

    assert answers[:5] == [None] * 5
    assert all(wait is not None and 0 < wait <= 60 for wait in answers[5:])
    assert server_b.hit("198.51.100.1") is None  # another client has a budget of its own


def test_the_window_key_expires_with_its_window(shared, settings):
    settings.PUBLIC_API_RATE = "5/min"
    ratelimit.PublicRateThrottle().hit("203.0.113.7")

    [key] = shared.client.scan_iter(match=f"{shared.prefix}:ratelimit:*")
    window_end = (int(NOW // 60) + 1) * 60
    assert key.decode() == f"{shared.prefix}:ratelimit:60:{int(NOW // 60)}:203.0.113.7"
    assert shared.client.expiretime(key) == window_end + 1
    assert int(shared.client.get(key)) == 1


def test_the_pages_and_the_api_count_in_redis(shared, settings):
    settings.PUBLIC_API_RATE = "2/min"
    make_certificate(number="C-1")
    anonymous = Client()

    codes = [anonymous.get("/verify/C-1").status_code,
             anonymous.get("/api/v1/public/certificates/C-1").status_code,
             anonymous.get("/directory/").status_code]

    assert codes == [200, 200, 429]
    ratelimit.PUBLIC_THROTTLE._counts.clear()  # this process's memory holds nothing
    assert anonymous.get("/verify/C-1").status_code == 429


def test_without_an_answer_from_redis_each_process_counts_alone(unreachable, settings,
                                                                 monkeypatch):
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: NOW))
    settings.PUBLIC_API_RATE = "2/min"
    throttle = ratelimit.PublicRateThrottle()

    assert [throttle.hit("203.0.113.7") is None for _ in range(3)] == [True, True, False]


def test_after_a_failure_redis_is_left_alone_for_a_while_and_logged_once(unreachable,
                                                                          monkeypatch, caplog):
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: NOW))
    throttle = ratelimit.PublicRateThrottle()
    tries = []
    execute = redis.client.Pipeline.execute

    def counted(self, *args, **kwargs):
        tries.append(1)
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)

    for _ in range(5):
        throttle.hit("203.0.113.7")

    assert shared_store.shared_redis_resting()
    assert len(tries) == 1
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 1
    monkeypatch.setattr(shared_store, "_resting_until", 0.0)  # the rest is over
    throttle.hit("203.0.113.7")
    assert len(tries) == 2
    assert len([r for r in caplog.records if "did not answer" in r.getMessage()]) == 2


# --- the lookup counters --------------------------------------------------------------------

def test_lookups_go_through_redis_and_one_write(shared):
    first, second = make_certificate(number="C-1"), make_certificate(number="C-2")
    anonymous = Client()
    for number in ("C-1", "C-1", "C-2"):
        assert anonymous.get(f"/verify/{number}").status_code == 200
    assert lookups.pending_lookup_counts() == {first.pk: 2, second.pk: 1}
    shared.client.hincrby(f"{shared.prefix}:lookups", str(first.pk), 5)  # another server's

    assert lookups.flush_lookup_counts() == 8
    assert Certificate.objects.get(pk=first.pk).lookups == 7
    assert Certificate.objects.get(pk=second.pk).lookups == 1
    assert lookups.pending_lookup_counts() == {}
    assert lookups.shared_pending_lookup_counts() == {}
    assert lookups.flush_lookup_counts() == 0


def test_while_another_process_flushes_the_counts_wait_in_redis(shared):
    certificate = make_certificate(number="C-1")
    lookups.record_lookup(certificate.pk)
    other_process = shared.client.lock(f"{shared.prefix}:lookups:flush-lock", timeout=10)
    assert other_process.acquire(blocking=False)

    assert lookups.flush_lookup_counts(lock_wait=0.2) == 0
    assert lookups.pending_lookup_counts() == {}
    assert lookups.shared_pending_lookup_counts() == {certificate.pk: 1}

    other_process.release()
    assert lookups.flush_lookup_counts() == 1
    assert Certificate.objects.get(pk=certificate.pk).lookups == 1


def test_counts_survive_a_failed_write_and_go_in_with_the_next_flush(shared, monkeypatch):
    certificate = make_certificate(number="C-1")
    lookups.record_lookup(certificate.pk)
    lookups.record_lookup(certificate.pk)

    def database_down(counts):
        raise RuntimeError("database down")

    with monkeypatch.context() as m:
        m.setattr(lookups, "_write_counts", database_down)
        with pytest.raises(RuntimeError):
            lookups.flush_lookup_counts()
    lookups.record_lookup(certificate.pk)  # counted while the two wait to be written

    assert lookups.flush_lookup_counts() == 2  # the ones moved aside, nothing added
    assert lookups.flush_lookup_counts() == 1
    assert Certificate.objects.get(pk=certificate.pk).lookups == 3


def test_the_exit_flush_writes_this_process_and_redis(shared):
    certificate = make_certificate(number="C-1")
    lookups.record_lookup(certificate.pk)
    shared.client.hincrby(f"{shared.prefix}:lookups", str(certificate.pk), 2)

    lookups._flush_at_exit()

    assert Certificate.objects.get(pk=certificate.pk).lookups == 3


def test_without_an_answer_from_redis_lookups_are_counted_in_the_process(unreachable):
    certificate = make_certificate(number="C-1")

    lookups.record_lookup(certificate.pk)

    assert lookups.pending_lookup_counts() == {certificate.pk: 1}
    assert lookups.flush_lookup_counts() == 1


# --- the directory's cache version -------------------------------------------------------------

def directory_numbers() -> list[str]:
    return [c.number for c in directory.search_directory(q="Nordlicht").items]


def test_a_change_elsewhere_makes_every_process_search_again(shared):
    make_certificate("Nordlicht Energie GmbH", number="N-1")
    make_certificate("Nordlicht Metall AG", number="N-2")
    assert directory_numbers() == ["N-1", "N-2"]
    Certificate.objects.filter(number="N-2").update(confidential=True)
    assert directory_numbers() == ["N-1", "N-2"]  # this process's cached ranking

    shared.client.incr(f"{shared.prefix}:directory:version")  # another server's change

    assert directory_numbers() == ["N-1"]


def test_marking_a_certificate_confidential_raises_the_shared_version(shared, dora,
                                                                      django_capture_on_commit_callbacks):
    make_certificate("Nordlicht Energie GmbH", number="N-1")
    certificate = make_certificate("Nordlicht Metall AG", number="N-2")
    assert directory_numbers() == ["N-1", "N-2"]

    with django_capture_on_commit_callbacks(execute=True):
        set_certificate_confidentiality(certificate=certificate, confidential=True,
                                        reason="Client asked under IAF MD 28.", actor=dora)

    assert shared.client.get(f"{shared.prefix}:directory:version") == b"1"
    assert directory_numbers() == ["N-1"]
    event = AuditEvent.objects.get(action="certification.certificate.confidentiality_changed")
    assert event.payload["confidential"] is True


def test_a_client_cannot_make_a_certificate_confidential(shared, alice):
    certificate = make_certificate(number="N-1")

    with pytest.raises(NotPermitted):
        set_certificate_confidentiality(certificate=certificate, confidential=True,
                                        reason="I would like that.", actor=alice)

    assert Certificate.objects.get(pk=certificate.pk).confidential is False
    assert shared.client.get(f"{shared.prefix}:directory:version") is None


def test_without_an_answer_from_redis_the_directory_searches_uncached(unreachable):
    make_certificate("Nordlicht Energie GmbH", number="N-1")
    assert directory_numbers() == ["N-1"]
    Certificate.objects.filter(number="N-1").update(confidential=True)

    assert directory_numbers() == []
    directory.forget_searches()  # logs, does not raise


def test_redis_errors_reach_no_public_request(unreachable):
    make_certificate("Nordlicht Energie GmbH", number="C-1")
    anonymous = Client()

    assert anonymous.get("/verify/C-1").status_code == 200
    assert anonymous.get("/api/v1/public/certificates/C-1").status_code == 200
    assert anonymous.get("/directory/?q=Nordlicht").status_code == 200


def test_an_import_raises_the_shared_version(shared, ada, django_capture_on_commit_callbacks):
    make_certificate("Nordlicht Energie GmbH", number="N-1")
    assert directory_numbers() == ["N-1"]

    done = import_text(csv_text([row(1, **{"Certified entity name": "Nordlicht Glas AG"})]),
                       actor=ada, capture=django_capture_on_commit_callbacks)

    assert done.status == "done", done.errors
    assert shared.client.get(f"{shared.prefix}:directory:version") == b"1"
    assert len(directory_numbers()) == 2
