"""After its first request a process freezes what it has loaded out of the cyclic garbage
collector's full passes, once (``core.gcfreeze``)."""

import gc

import pytest
from django.core.signals import request_finished

from isocert.core.gcfreeze import freeze_after_first_request, install


@pytest.fixture
def fresh_process():
    """As a new server process: nothing frozen, the receiver waiting for a first request."""
    request_finished.disconnect(freeze_after_first_request)
    gc.unfreeze()
    install()
    yield
    request_finished.disconnect(freeze_after_first_request)


def test_the_first_request_freezes_what_is_loaded_and_the_next_do_not(client, fresh_process):
    assert gc.get_freeze_count() == 0
    client.get("/health/live")
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    client.get("/health/live")
    assert gc.get_freeze_count() == 0  # once per process, not on every request
