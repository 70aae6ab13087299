"""The portal behind a real nginx (Debian's package) with the site in deploy/nginx.

The template ``deploy/nginx/isocert.conf.template`` is rendered the way the docs tell the
operator to (only its ``${ISOCERT_…}`` names filled in) and served by nginx, as a
non-daemon subprocess with a temporary prefix, on free ports of 127.0.0.1 with a
self-signed certificate made here; granian serves the portal behind it with production
settings on the test database (DEBUG off, TRUSTED_PROXY_COUNT=1, BEHIND_TLS_PROXY=1).
Requests come from different loopback addresses (127.0.0.2, 127.0.0.3 …): nginx sees
them as different clients, as it would see two people on the internet.
"""

import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import string
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings
from factories import PASSWORD
from helpers.servers import active_database_url, clean_environment, free_port, wait_for_port
from requests.adapters import HTTPAdapter

from isocert.core.models import StoredFile
from isocert.registration.models import ApplicationDocument

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "isocert.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HSTS = "max-age=31536000; includeSubDomains; preload"
MB = 1024 * 1024


class FromAddress(HTTPAdapter):
    """Connect from a given local address: one loopback address per simulated client."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str, certificate: Path) -> requests.Session:
    session = requests.Session()
    session.mount("https://", FromAddress(address))
    session.mount("http://", FromAddress(address))
    session.verify = str(certificate)  # the self-signed certificate is checked, not ignored
    session.trust_env = False  # else REQUESTS_CA_BUNDLE or a proxy from the environment wins
    return session


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def render_site(values: dict[str, str]) -> str:
    """The template with the ISOCERT_ names filled in, as envsubst with that list does."""
    text = string.Template(TEMPLATE.read_text()).safe_substitute(values)
    left = sorted(set(re.findall(r"\$\{?ISOCERT_\w+", text)))
    assert not left, f"the template names variables the docs do not list: {left}"
    return text


def main_config(prefix: Path, site: Path) -> str:
    """A minimal nginx.conf around the site, every path in the temporary prefix."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp files
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} warn;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix / 'access.log'};
{temp}
    include {site};
}}
"""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def portal_behind_nginx(tmp_path, draft, alice):
    """granian + nginx on free ports; yields the HTTPS and HTTP base URLs and the CA file."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: `make proxy` installs Debian's package.")
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    site_url = f"https://127.0.0.1:{https_port}"
    cert_file, key_file = self_signed_certificate(tmp_path)

    # The server's password hasher (the test run's MD5 is not among production's).
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        alice.set_password(PASSWORD)
        alice.save(update_fields=["password"])
    caches["default"].clear()  # log-in failures counted by earlier tests

    # Static files with their manifest, as collectstatic makes them (without WhiteNoise's
    # compression, which takes a minute here; tests/core/test_static_files.py runs it).
    static_root = tmp_path / "static"
    storages = {**django_settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=static_root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)

    signing_key = tmp_path / "signing-key.pem"
    signing_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    env = clean_environment(
        DATABASE_URL=active_database_url(), DEBUG="0",
        SECRET_KEY="nginx-test-" + "s" * 50, SITE_URL=site_url, ALLOWED_HOSTS="127.0.0.1",
        BEHIND_TLS_PROXY="1", TRUSTED_PROXY_COUNT="1", LOGIN_RATE_LIMIT="3/m/ip",
        ISOCERT_VAR_DIR=str(tmp_path / "var"), MEDIA_ROOT=str(tmp_path / "media"),
        STATIC_ROOT=str(static_root), CERTIFICATE_SIGNING_KEY_FILE=str(signing_key),
        TASKS_BACKEND="immediate")
    granian = subprocess.Popen(
        [str(Path(sys.executable).with_name("granian")), "--interface", "wsgi",
         "--host", "127.0.0.1", "--port", str(app_port), "--workers", "1",
         "--blocking-threads", "1", "--no-ws", "isocert.wsgi:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "granian.log", "wb"))  # noqa: SIM115
    nginx = None
    try:
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        site = prefix / "isocert.conf"
        site.write_text(render_site({
            "ISOCERT_SERVER_NAME": "127.0.0.1", "ISOCERT_SITE_URL": site_url,
            "ISOCERT_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "ISOCERT_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "ISOCERT_TLS_CERTIFICATE": str(cert_file),
            "ISOCERT_TLS_CERTIFICATE_KEY": str(key_file),
            "ISOCERT_APP_ADDRESS": f"127.0.0.1:{app_port}",
            "ISOCERT_STATIC_ROOT": f"{static_root}/",
        }))
        (prefix / "nginx.conf").write_text(main_config(prefix, site))
        command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
        wait_for_port(https_port, nginx, what="nginx")
        wait_for_port(app_port, granian, timeout=60, what="granian")
        yield {"https": site_url, "http": f"http://127.0.0.1:{http_port}", "ca": cert_file,
               "static_root": static_root}
    finally:
        if nginx is not None:
            stop(nginx)
        stop(granian)


def log_in(session: requests.Session, base: str, email: str, password: str):
    page = session.get(f"{base}/accounts/login/")
    assert page.status_code == 200, page.text[:500]
    return session.post(f"{base}/accounts/login/", allow_redirects=False,
                        data={"login": email, "password": password,
                              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                        headers={"Origin": base, "Referer": f"{base}/accounts/login/"})


@pytest.mark.django_db(transaction=True)
def test_the_portal_behind_nginx(portal_behind_nginx, draft, alice):
    base, ca = portal_behind_nginx["https"], portal_behind_nginx["ca"]

    # Plain HTTP answers only with the redirect to the same path on the HTTPS site.
    plain = client_at("127.0.0.2", ca).get(
        f"{portal_behind_nginx['http']}/accounts/login/?next=/dashboard/", allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{base}/accounts/login/?next=/dashboard/"

    # HSTS, once, on pages (the portal's own copy hidden) and on nginx's static files.
    page = client_at("127.0.0.2", ca).get(f"{base}/accounts/login/")
    assert page.status_code == 200
    assert page.raw.headers.getlist("Strict-Transport-Security") == [HSTS]
    manifest = json.loads((portal_behind_nginx["static_root"] / "staticfiles.json").read_text())
    css = manifest["paths"]["isocert/portal.css"]
    assert f"/static/{css}" in page.text  # the page links the hashed file nginx serves
    static = client_at("127.0.0.2", ca).get(f"{base}/static/{css}")
    assert static.status_code == 200
    assert static.headers["Strict-Transport-Security"] == HSTS
    assert static.headers["Content-Type"].startswith("text/css")

    # Failed log-ins are counted per client address as nginx saw it (3 a minute here): the
    # fourth from 127.0.0.2 is refused, even claiming another address in X-Forwarded-For;
    # 127.0.0.3 still has its own budget.
    limited = "Too many failed login attempts"
    first = client_at("127.0.0.2", ca)
    for _ in range(3):
        failed = log_in(first, base, "nobody@example.org", "wrong-password")
        assert failed.status_code == 200 and limited not in failed.text
        assert "not correct" in failed.text
    assert limited in log_in(first, base, "nobody@example.org", "wrong-password").text
    first.headers["X-Forwarded-For"] = "198.51.100.7"
    assert limited in log_in(first, base, "nobody@example.org", "wrong-password").text
    other = log_in(client_at("127.0.0.3", ca), base, "nobody@example.org", "wrong-password")
    assert other.status_code == 200
    assert limited not in other.text and "not correct" in other.text

    # Alice logs in and uploads a 20 MB document through the page; 22 MB stop at nginx.
    alice_session = client_at("127.0.0.4", ca)
    logged_in = log_in(alice_session, base, alice.email, PASSWORD)
    assert logged_in.status_code == 302, logged_in.text[:1000]
    pdf = b"%PDF-1.4\n" + b"0" * (20 * MB - 9 - 6) + b"\n%%EOF"
    assert len(pdf) == 20 * MB
    upload_url = f"{base}/applications/{draft.pk}/documents/"
    headers = {"Origin": base, "Referer": f"{base}/applications/{draft.pk}/edit/documents/"}
    uploaded = alice_session.post(
        upload_url, allow_redirects=False, headers=headers,
        data={"kind": "manual", "csrfmiddlewaretoken": alice_session.cookies["csrftoken"]},
        files={"file": ("EnMS manual.pdf", pdf, "application/pdf")})
    assert uploaded.status_code == 302, uploaded.text[:1000]
    document = ApplicationDocument.objects.get(application=draft)
    assert (document.original_name, document.file.size) == ("EnMS manual.pdf", 20 * MB)

    too_large = alice_session.post(
        upload_url, allow_redirects=False, headers=headers,
        data={"kind": "manual", "csrfmiddlewaretoken": alice_session.cookies["csrftoken"]},
        files={"file": ("big.pdf", pdf + b"0" * (2 * MB), "application/pdf")})
    assert too_large.status_code == 413
    assert too_large.headers["Strict-Transport-Security"] == HSTS
    assert StoredFile.objects.count() == 1
