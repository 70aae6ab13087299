"""Sentry only when SENTRY_DSN is set; `isocert --version` (issue #16)."""

import os
import subprocess
import sys

import isocert

SHOW = ("import django, os, sys; os.environ['DJANGO_SETTINGS_MODULE'] = 'isocert.settings'; "
        "django.setup(); print('sentry_sdk' in sys.modules); "
        "import sentry_sdk; client = sentry_sdk.get_client(); "
        "collected = client.options['data_collection']; "
        "print(client.is_active(), client.options.get('release'), collected['user_info'], "
        "collected['cookies']['mode'], collected['http_headers']['request']['mode'], "
        "collected['url_query_params']['mode'], len(collected['http_bodies']), "
        "collected['stack_frame_variables'])")


def _run(tmp_path, *args, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "SENTRY_DSN")}
    env.update(ISOCERT_VAR_DIR=str(tmp_path), DEBUG="1", **env_overrides)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_without_a_dsn_sentry_is_not_even_imported(tmp_path):
    result = _run(tmp_path, "-c", SHOW)

    assert result.returncode == 0, result.stderr
    imported, active = result.stdout.split()[:2]
    assert (imported, active) == ("False", "False")


def test_with_a_dsn_sentry_starts_with_the_release_and_no_personal_data(tmp_path):
    result = _run(tmp_path, "-c", SHOW, SENTRY_DSN="https://public@127.0.0.1:9/1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", f"isocert@{isocert.__version__}",
                                     "False", "off", "off", "off", "0", "False"]


def test_isocert_version_prints_the_package_version(tmp_path):
    result = _run(tmp_path, "-m", "isocert", "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"isocert {isocert.__version__}"
    assert isocert.__version__.count(".") == 2
