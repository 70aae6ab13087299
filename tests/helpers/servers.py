"""Real server processes for deployment tests: free ports, the test database's URL, waiting."""

import os
import socket
import time
from pathlib import Path

from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def active_database_url() -> str:
    """The active test database as a DATABASE_URL, for a server process to share it.

    Only committed data is visible to another process: use it from transactional tests.
    """
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without the test run's own Django variables, plus values."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL",
                        "CERTIFICATE_SIGNING_KEY")}
    env.update(values)
    return env


def wait_for_port(port: int, process, *, timeout: float = 30.0, what: str = "server") -> None:
    """Wait until something accepts connections on 127.0.0.1:port; fail if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The {what} exited with {process.returncode} before listening.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"The {what} did not listen on port {port} within {timeout} s.")
