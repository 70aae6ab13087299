"""With DEBUG off the portal refuses to start without its SECRET_KEY instead of using a
published fallback (issue #13: a forged e-mail confirmation was made with the
repository's key). Each case runs in a clean process, as a server would start."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from isocert.core.checks import check_unsafe_settings, refuse_unsafe_settings

PRODUCTION_KEY = "k" * 30 + "-long-random-production-secret-" + "q" * 20


def _run(tmp_path, *args, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY",
                        "SECRET_KEY_FILE", "DEBUG")}
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

    from_variable = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY=PRODUCTION_KEY)
    from_file = _run(tmp_path, "-c", show, DEBUG="0", SECRET_KEY_FILE=str(key_file))
    local = _run(tmp_path, "-c", show, DEBUG="0")

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


def test_the_check_in_process():
    with override_settings(DEBUG=False, SECRET_KEY=""):
        assert [error.id for error in check_unsafe_settings()] == ["isocert.E001"]
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
            refuse_unsafe_settings()
    with override_settings(DEBUG=False, SECRET_KEY=PRODUCTION_KEY):
        assert check_unsafe_settings() == []
        refuse_unsafe_settings()
