"""Two app servers on one PostgreSQL database, as an operator scales out (issue #16).

Started for real on 127.0.0.1: an S3-compatible store (moto in server mode), two granian
servers A and B sharing the test database, Redis (a test database and key prefix of their
own), the S3 bucket and the CB's signing key, and a task worker beside A. Then:

* a certificate PDF the worker renders (stored in S3) downloads through B, a document
  uploaded through B downloads through A;
* the QR code verifies on both (one signing key, not one per host);
* a rate limit of N lets exactly N requests through across A and B;
* lookups counted on A and on B reach the database within ``LOOKUP_FLUSH_SECONDS``;
* a certificate made confidential through A leaves the directory of A and B at once;
* servers stopped with SIGTERM write the lookups they still held, with Redis (C) and
  without (D): the exit path that runs in a granian worker.

Runs in the PostgreSQL pass of the suite (``.ci/run``); skipped on SQLite, which one
machine's processes share by its file. Figures (requests, counts, flush delay) are printed
(``pytest -s``) for docs/performance.md.
"""

import contextlib
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from certification_helpers import DECIDED, decision_ready_cycle
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.db import connection
from helpers.shared_redis import TEST_REDIS_URL, delete_prefixed, new_prefix, reachable_redis

import isocert
from isocert.accounts.services import create_access_token
from isocert.certification import services
from isocert.certification.models import Certificate, CertificateRevision
from isocert.registration.services import create_application

pytestmark = pytest.mark.django_db(transaction=True)

BIN = Path(sys.executable).parent
RATE_LIMIT = 10  # PUBLIC_API_RATE of both servers: N an hour per client address
FLUSH_SECONDS = 2  # LOOKUP_FLUSH_SECONDS of both servers
BUCKET = "isocert-media"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process in a session of its own, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.proc = subprocess.Popen(args, env=env, stdout=self.log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


class Answer:
    def __init__(self, status: int, body: bytes, headers):
        self.status, self.body, self.headers = status, body, headers

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


def request(base: str, path: str, *, client: str = "192.0.2.1", method: str = "GET",
            body: bytes | None = None, token: str | None = None,
            content_type: str = "application/json") -> Answer:
    """One request as the client at address ``client`` (X-Forwarded-For: the servers trust
    one proxy, so each check has a rate-limit budget of its own)."""
    headers = {"X-Forwarded-For": client}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:  # noqa: S310 — 127.0.0.1
            return Answer(answer.status, answer.read(), answer.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), error.headers)


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes
              ) -> tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` and one file; returns it and its type."""
    boundary = "isocert-two-servers-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
             f"{value}\r\n".encode() for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                 f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}")


def wait_until(check, *, timeout: float, what: str, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, urllib.error.URLError):  # not up yet
            if check():
                return
        for process in processes:
            if process.proc.poll() is not None:
                pytest.fail(f"{process.name} ended while waiting for {what}:\n"
                            f"{process.output()}")
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}:\n" + "\n".join(
        f"--- {p.name}\n{p.output()}" for p in processes))


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the two-server test runs in the PostgreSQL pass (.ci/run)")


@pytest.fixture
def stack(postgres, transactional_db, tmp_path, settings):
    """moto, Redis, the signing key, granian A, B and C (Redis, S3), D (neither) and a
    worker beside A; everything started here is stopped at the end and Redis's keys deleted."""
    starting = time.monotonic()
    redis_client = reachable_redis()
    prefix = new_prefix()
    key_file = tmp_path / "certificate-signing-key.pem"
    key_file.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    # The test process signs the decision's QR data: with the servers' key.
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = key_file
    # Its PDF task goes to the database queue, for the worker beside A.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    db = connection.settings_dict
    database_url = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                    f"{db['PORT'] or 5432}/{db['NAME']}")
    logs = tmp_path / "logs"
    logs.mkdir()
    processes: list[Process] = []
    s3_port = free_port()
    moto = Process("moto", [str(BIN / "python"), "-m", "moto.server", "-H", "127.0.0.1",
                            "-p", str(s3_port)], dict(os.environ), logs)
    processes.append(moto)
    s3_url = f"http://127.0.0.1:{s3_port}"

    src = str(Path(isocert.__file__).resolve().parent.parent)
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("DATABASE_", "REDIS_", "AWS_", "MEDIA_", "CERTIFICATE_"))}
    base_env.update({
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "isocert.settings",
        # DEBUG on only so pages need no collected static files (collectstatic takes a
        # minute here); everything this test checks is the same with DEBUG off.
        "DEBUG": "true",
        "SECRET_KEY": "two-server-test-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "CERTIFICATE_SIGNING_KEY_FILE": str(key_file),
        "PUBLIC_API_RATE": f"{RATE_LIMIT}/h",
        "TRUSTED_PROXY_COUNT": "1",
        "TASKS_BACKEND": "db",
        "LOG_LEVEL": "WARNING",
    })
    shared_env = {
        **base_env,
        "REDIS_URL": TEST_REDIS_URL, "REDIS_KEY_PREFIX": prefix,
        "LOOKUP_FLUSH_SECONDS": str(FLUSH_SECONDS),
        "MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_url, "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }
    servers = {}
    try:
        # C and D flush only when they stop: C through Redis, D (no Redis, local files)
        # straight to the database.
        for name, env in (("A", shared_env), ("B", shared_env),
                          ("C", {**shared_env, "LOOKUP_FLUSH_SECONDS": "3600"}),
                          ("D", {**base_env, "LOOKUP_FLUSH_SECONDS": "3600"})):
            port = free_port()
            var = tmp_path / f"var-{name}"
            process = Process(f"granian-{name}", [
                str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--blocking-threads", "1", "--no-ws",
                "isocert.wsgi:application"], {**env, "ISOCERT_VAR_DIR": str(var)}, logs)
            processes.append(process)
            servers[name] = {"url": f"http://127.0.0.1:{port}", "var": var,
                             "process": process}
        worker = Process("worker-A", [
            str(BIN / "python"), "-m", "isocert", "db_worker", "--queue-name", "*",
            "--no-reload", "--no-startup-delay", "--interval", "0.2"],
            {**shared_env, "ISOCERT_VAR_DIR": str(servers["A"]["var"])}, logs)
        processes.append(worker)

        wait_until(lambda: urllib.request.urlopen(f"{s3_url}/moto-api/", timeout=2),  # noqa: S310
                   timeout=30, what="moto", processes=processes)
        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing"
                     ).create_bucket(Bucket=BUCKET)


        def wait_for_servers() -> float:
            """Seconds from the start until every server answers (they start while the
            test builds its certificate)."""
            for server in servers.values():
                wait_until(lambda server=server: request(
                    server["url"], "/.well-known/isocert-signing-key").status == 200,
                    timeout=60, what=server["process"].name, processes=processes)
            return round(time.monotonic() - starting, 1)

        yield {**servers, "worker": worker, "redis": redis_client, "prefix": prefix,
               "wait_for_servers": wait_for_servers}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()
        delete_prefixed(redis_client, prefix)


def listed(base: str, number: str, client: str) -> bool:
    answer = request(base, "/api/v1/public/certificates?q=Nordlicht", client=client)
    assert answer.status == 200, answer.text()
    return number in [c["certificate_number"] for c in answer.json()["items"]]


def db_lookups(certificate_id: int) -> int:
    return Certificate.objects.values_list("lookups", flat=True).get(pk=certificate_id)


def test_two_servers_share_files_key_limits_counts_and_directory(
        stack, nordlicht, alice, rita, adam, dora):
    a, b = stack["A"]["url"], stack["B"]["url"]
    figures = {}
    started = time.monotonic()

    # A certificate: decided here, its PDF rendered by the worker beside A into S3.
    cycle = decision_ready_cycle(nordlicht, alice, rita, adam, findings=("minor",))
    certificate = services.decide(cycle=cycle, actor=dora, kind="initial", outcome="grant",
                                  decision_date=DECIDED).certificate
    figures["servers_ready_seconds"] = stack["wait_for_servers"]()

    # One signing key on every server (none made its own).
    keys = {request(stack[name]["url"], "/.well-known/isocert-signing-key").text()
            for name in "ABCD"}
    assert len(keys) == 1
    revision = CertificateRevision.objects.get(certificate=certificate)
    wait_until(lambda: CertificateRevision.objects.get(pk=revision.pk).pdf_id is not None,
               timeout=45, what="the worker's PDF", processes=[stack["worker"]])
    figures["pdf_ready_seconds"] = round(time.monotonic() - started, 1)
    _, alice_token = create_access_token(actor=alice, name="two servers")
    pdf = request(b, f"/api/v1/certificates/revisions/{revision.pk}/pdf", token=alice_token)
    assert pdf.status == 200, pdf.text()[:500]
    assert pdf.body.startswith(b"%PDF") and len(pdf.body) > 1000
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    # A document uploaded through B downloads through A.
    application = create_application(organization=nordlicht, actor=alice)
    document = pdf.body + b"\n% another document, uploaded through B\n"
    body, content_type = multipart({"kind": "other"}, "file", "evidence.pdf", document)
    uploaded = request(b, f"/api/v1/applications/{application.pk}/documents", method="POST",
                       body=body, content_type=content_type, token=alice_token)
    assert uploaded.status == 201, uploaded.text()
    downloaded = request(a, f"/api/v1/documents/{uploaded.json()['id']}/download",
                         token=alice_token)
    assert downloaded.status == 200 and downloaded.body == document
    for name in ("A", "B"):  # in the bucket, on no server's disk
        assert not list((stack[name]["var"] / "media").rglob("*.*"))

    # Lookups on both servers reach the database within the flush interval.
    for n in range(3):
        assert request(a, f"/api/v1/public/certificates/{certificate.number}",
                       client=f"198.51.100.{n}").status == 200
    for n in range(4):
        assert request(b, f"/api/v1/public/certificates/{certificate.number}",
                       client=f"198.51.100.{10 + n}").status == 200
    counted = time.monotonic()
    wait_until(lambda: db_lookups(certificate.pk) == 7, timeout=FLUSH_SECONDS + 5,
               what="7 lookups in the database")
    figures["flush_delay_seconds"] = round(time.monotonic() - counted, 2)
    assert figures["flush_delay_seconds"] <= FLUSH_SECONDS + 1.5
    time.sleep(0.3)
    assert db_lookups(certificate.pk) == 7  # written once, not once per server

    # The QR code verifies on both servers.
    qr_path = revision.content["qr_url"].removeprefix(django_settings.SITE_URL)
    for n, server in enumerate((a, b)):
        page = request(server, qr_path, client=f"203.0.113.{n}")
        assert page.status == 200
        assert "Signature valid, and the signed data matches the registry." in page.text()

    # Made confidential through A: gone from the directory of both at once.
    assert listed(a, certificate.number, "203.0.113.50")
    assert listed(b, certificate.number, "203.0.113.51")  # both have the search cached
    _, dora_token = create_access_token(actor=dora, name="two servers")
    changed = request(a, f"/api/v1/certificates/{certificate.pk}/confidentiality",
                      method="POST", token=dora_token,
                      body=b'{"confidential": true, "reason": "Client request (IAF MD 28)."}')
    assert changed.status == 200, changed.text()
    assert changed.json()["confidential"] is True
    assert not listed(b, certificate.number, "203.0.113.51")
    assert not listed(a, certificate.number, "203.0.113.50")

    # A rate limit of N lets N requests through across both servers (one window).
    hour_left = 3600 - time.time() % 3600
    if hour_left < 10:
        time.sleep(hour_left + 0.5)
    codes = [request((a, b)[n % 2], "/api/v1/public/certificates/NO-SUCH-NUMBER",
                     client="198.51.100.200").status for n in range(RATE_LIMIT + 6)]
    figures["rate_limit"] = {"limit": RATE_LIMIT, "requests": len(codes),
                             "passed": sum(code != 429 for code in codes),
                             "refused": codes.count(429)}
    assert codes == [404] * RATE_LIMIT + [429] * 6

    # A server stopped with SIGTERM writes the lookups it still held (both hold them an
    # hour): C through Redis, D without it (after A and B wrote the two QR verifications).
    wait_until(lambda: db_lookups(certificate.pk) == 9, timeout=FLUSH_SECONDS + 5,
               what="the QR verifications' lookups")
    for name in "CD":
        for n in range(3):
            assert request(stack[name]["url"], f"/verify/{certificate.number}",
                           client=f"192.0.2.{n}").status == 200
    time.sleep(FLUSH_SECONDS + 0.5)  # A and B flushed meanwhile: nothing of these
    assert db_lookups(certificate.pk) == 9
    for name, expected in (("C", 12), ("D", 15)):
        stopping = time.monotonic()
        assert stack[name]["process"].stop() >= 0  # stopped by SIGTERM, not killed
        figures[f"stop_{name}_seconds"] = round(time.monotonic() - stopping, 2)
        # C's exit flush may find A or B flushing: then they write what C added to Redis.
        wait_until(lambda expected=expected: db_lookups(certificate.pk) == expected,
                   timeout=FLUSH_SECONDS + 1, what=f"the lookups {name} held")

    figures["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"\ntwo-server figures: {figures}  ({datetime.datetime.now(datetime.UTC):%H:%M})")
