"""With DEBUG off the portal refuses to start without its SECRET_KEY instead of using a
published fallback (issue #13: a forged e-mail confirmation was made with the
repository's key), and without its certificate signing key instead of making one per host
(issue #16: server B called server A's genuine certificates forged). Each case runs in a
clean process, as a server would start."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from isocert.core.checks import check_unsafe_settings, refuse_unsafe_settings
from isocert.core.keys import new_private_pem, write_key_file

PRODUCTION_KEY = "k" * 30 + "-long-random-production-secret-" + "q" * 20


def _run(tmp_path, *args, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY",
                        "SECRET_KEY_FILE", "DEBUG", "CERTIFICATE_SIGNING_KEY",
                        "CERTIFICATE_SIGNING_KEY_FILE")}
    env.update(ISOCERT_VAR_DIR=str(tmp_path), **env_overrides)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_reports_a_missing_secret_key(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "check", "--deploy", DEBUG="0")

    assert result.returncode != 0
    assert "isocert.E001" in result.stderr and "SECRET_KEY is not set" in result.stderr


def test_the_web_application_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run(tmp_path, "-c", "import isocert.wsgi", DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured: Refusing to start: SECRET_KEY is not set" in result.stderr


def test_the_key_comes_from_the_variable_a_file_or_the_local_installation(tmp_path):
    show = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'isocert.settings'; "
            "django.setup(); import isocert.wsgi; from django.conf import settings; "
            "print(settings.SECRET_KEY)")
    key_file = tmp_path / "cb-secret"
    key_file.write_text(PRODUCTION_KEY + "\n")
    (tmp_path / "secret-key").write_text("local-installation-key-" + "z" * 40)

    signing = tmp_path / "signing-key"
    write_key_file(signing)
    signed = {"CERTIFICATE_SIGNING_KEY_FILE": str(signing)}

    from_variable = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY=PRODUCTION_KEY, **signed)
    from_file = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY_FILE=str(key_file), **signed)
    local = _run(tmp_path, "-c", show, DEBUG="0", **signed)

    assert from_variable.stdout.strip() == PRODUCTION_KEY, from_variable.stderr
    assert from_file.stdout.strip() == PRODUCTION_KEY, from_file.stderr
    assert local.stdout.strip() == "local-installation-key-" + "z" * 40, local.stderr


def test_a_named_key_file_that_is_missing_stops_the_start(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "check", DEBUG="0",
                  SECRET_KEY_FILE=str(tmp_path / "nowhere"))

    assert result.returncode != 0
    assert f"SECRET_KEY_FILE names {tmp_path / 'nowhere'}, which does not exist" in result.stderr


def test_debug_alone_may_use_the_development_key(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "check", DEBUG="1")

    assert result.returncode == 0, result.stderr


def test_debug_on_still_signs_without_any_key_configured(tmp_path):
    """The development installation's key is made once in var/ (DEBUG only)."""
    show = ("import django; django.setup(); from isocert.core.keys import public_key_id; "
            "print(public_key_id())")

    first = _run(tmp_path, "-c", show, DEBUG="1", DJANGO_SETTINGS_MODULE="isocert.settings")
    again = _run(tmp_path, "-c", show, DEBUG="1", DJANGO_SETTINGS_MODULE="isocert.settings")

    assert first.returncode == 0, first.stderr
    assert (tmp_path / "certificate-signing-key.pem").exists()
    assert first.stdout == again.stdout and len(first.stdout.strip()) == 16


def test_check_deploy_reports_a_missing_signing_key(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "check", "--deploy", DEBUG="0",
                  SECRET_KEY=PRODUCTION_KEY)

    assert result.returncode != 0
    assert "isocert.E002" in result.stderr
    assert "CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_KEY_FILE are not set" in result.stderr
    assert "isocert.E001" not in result.stderr
    assert not list(tmp_path.glob("*key*.pem"))  # no key made behind the operator's back


@pytest.mark.parametrize("entry", ["isocert.wsgi", "isocert.asgi"])
def test_the_web_application_refuses_to_start_without_a_signing_key(tmp_path, entry):
    result = _run(tmp_path, "-c", f"import {entry}", DEBUG="0", SECRET_KEY=PRODUCTION_KEY)

    assert result.returncode != 0
    assert "Refusing to start: CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_KEY_FILE" \
        in result.stderr
    assert "(isocert.E002)" in result.stderr


def test_the_worker_refuses_to_start_without_a_signing_key(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "db_worker", "--batch", DEBUG="0",
                  SECRET_KEY=PRODUCTION_KEY)

    assert result.returncode != 0
    assert "isocert.E002" in result.stderr


def test_a_named_signing_key_file_that_is_missing_or_not_a_key_stops_the_start(tmp_path):
    missing = _run(tmp_path, "-m", "isocert", "check", DEBUG="0", SECRET_KEY=PRODUCTION_KEY,
                   CERTIFICATE_SIGNING_KEY_FILE=str(tmp_path / "nowhere.pem"))
    (tmp_path / "garbage.pem").write_text("not a key")
    garbage = _run(tmp_path, "-m", "isocert", "check", DEBUG="0", SECRET_KEY=PRODUCTION_KEY,
                   CERTIFICATE_SIGNING_KEY_FILE=str(tmp_path / "garbage.pem"))

    assert missing.returncode != 0 and garbage.returncode != 0
    assert f"CERTIFICATE_SIGNING_KEY_FILE names {tmp_path / 'nowhere.pem'}, which does not " \
        "exist" in missing.stderr
    assert not (tmp_path / "nowhere.pem").exists()
    assert "is not an unencrypted PEM private key" in garbage.stderr


def test_the_signing_key_from_the_variable_or_the_file_starts_the_portal(tmp_path):
    show = ("import isocert.wsgi; from isocert.core.keys import public_key_id; "
            "print(public_key_id())")
    pem = new_private_pem().decode()
    key_file = tmp_path / "cb-signing-key"
    key_file.write_text(pem)

    from_variable = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY=PRODUCTION_KEY,
                         CERTIFICATE_SIGNING_KEY=pem.replace("\n", "\\n"))
    from_file = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY=PRODUCTION_KEY,
                     CERTIFICATE_SIGNING_KEY_FILE=str(key_file))

    assert from_variable.returncode == 0, from_variable.stderr
    assert from_variable.stdout.strip() == from_file.stdout.strip()
    assert len(from_file.stdout.strip()) == 16


def test_signing_key_generate_prints_a_key_the_portal_accepts(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "signing-key", "generate", DEBUG="0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-----BEGIN PRIVATE KEY-----")
    started = _run(tmp_path, "-m", "isocert", "check", DEBUG="0", SECRET_KEY=PRODUCTION_KEY,
                   CERTIFICATE_SIGNING_KEY=result.stdout)
    assert started.returncode == 0, started.stderr
    assert _run(tmp_path, "-m", "isocert", "signing-key", "generate").stdout != result.stdout


def test_signing_key_generate_writes_a_private_file_and_never_overwrites_it(tmp_path):
    target = tmp_path / "keys" / "signing-key"

    first = _run(tmp_path, "-m", "isocert", "signing-key", "generate", "--output", str(target))
    content = target.read_bytes()
    again = _run(tmp_path, "-m", "isocert", "signing-key", "generate", "--output", str(target))

    assert first.returncode == 0, first.stderr
    assert first.stdout == ""  # the key is in the file, not on the screen
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert again.returncode != 0 and "is never overwritten" in again.stderr
    assert target.read_bytes() == content


def test_the_check_in_process():
    with override_settings(DEBUG=False, SECRET_KEY=""):
        assert [error.id for error in check_unsafe_settings()] == ["isocert.E001"]
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
            refuse_unsafe_settings()
    with override_settings(DEBUG=False, SECRET_KEY=PRODUCTION_KEY):
        assert check_unsafe_settings() == []
        refuse_unsafe_settings()
    with override_settings(DEBUG=False, SECRET_KEY=PRODUCTION_KEY, CERTIFICATE_SIGNING_KEY="",
                           CERTIFICATE_SIGNING_KEY_FILE=None):
        assert [error.id for error in check_unsafe_settings()] == ["isocert.E002"]
        with pytest.raises(ImproperlyConfigured, match="CERTIFICATE_SIGNING_KEY"):
            refuse_unsafe_settings()
