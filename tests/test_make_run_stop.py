"""Ctrl-C on `make run` stops the server and the worker within 5 s, without
"make: *** Segmentation fault" and without a granian worker left hanging (issue #16).

Runs `make serve` — the very command line `make run` ends with — on a free port against a
temporary var dir (SQLite, only the worker's tables migrated), waits until it serves and the
worker beats, then sends SIGINT to the whole process group, as a terminal's Ctrl-C does.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(shutil.which("make") is None or shutil.which("setsid") is None,
                       reason="needs GNU make and setsid"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet reaped by its parent) is gone too.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" in status.read_text()


def heartbeats(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM core_workerheartbeat").fetchone()[0]


@pytest.fixture
def serve_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MFLAGS",
                        "MAKELEVEL", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(ISOCERT_VAR_DIR=str(tmp_path), DEBUG="0", SECRET_KEY="stop-test-" + "k" * 50,
               CERTIFICATE_SIGNING_KEY_FILE=str(tmp_path / "signing-key"),
               WORKER_HEARTBEAT_SECONDS="1", WORKER_HEARTBEAT_STALE_SECONDS="5")
    isocert = [sys.executable, "-m", "isocert"]
    subprocess.run([*isocert, "signing-key", "generate", "--output", str(tmp_path / "signing-key")],
                   env=env, check=True, capture_output=True, timeout=120)
    for app in ("django_tasks_database", "core"):   # the worker's tables: enough to serve and work
        subprocess.run([*isocert, "migrate", app, "--no-input"], env=env, check=True,
                       capture_output=True, timeout=300)
    return env


def test_ctrl_c_stops_server_and_worker_within_five_seconds(serve_env, tmp_path):
    port = free_port()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}", "WORKERS=2",
         f"VENV={sys.prefix}"],
        cwd=ROOT, env=serve_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,   # its own process group, as a terminal's foreground job
        # ... with Ctrl-C's signal not ignored, as in a terminal: a suite started as a
        # background job (`bash .ci/run &`) ignores SIGINT, every child inherits that, and
        # the recipe's shell may not trap a signal ignored when it started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 90
        while True:
            assert make.poll() is None, make.stdout.read()
            with (contextlib.suppress(OSError, sqlite3.Error),  # not serving yet
                  urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live",
                                         timeout=2) as answer):
                if answer.status == 200 and heartbeats(tmp_path / "isocert.sqlite3"):
                    break
            assert time.monotonic() < deadline, "make serve never served"
            time.sleep(0.3)

        pressed = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)
        output, _ = make.communicate(timeout=5)
        took = time.monotonic() - pressed
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.communicate()

    assert took < 5, output
    assert "Segmentation fault" not in output, output
    assert "refused to gracefully stop" not in output, output   # no hung granian worker
    pids = [int(pid) for pid in re.findall(r"PID: (\d+)", output)]
    assert len(pids) == 3, output   # granian's main process and its two workers
    assert all(gone(pid) for pid in pids), output
    assert heartbeats(tmp_path / "isocert.sqlite3") == 0   # the worker stopped cleanly
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
