"""The console commands a CB operator relies on: ``check --deploy``."""

import os
import subprocess
import sys

from isocert.core.keys import write_key_file


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # A clean process: no test-only variables (the browser tests allow async-unsafe ORM use).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    key_file = tmp_path / "signing-key"
    write_key_file(key_file)
    env.update(
        CERTIFICATE_SIGNING_KEY_FILE=str(key_file),
        SECRET_KEY="a" * 20 + "-long-random-production-secret-" + "b" * 20,
        SITE_URL="https://portal.example-cb.org",
        ALLOWED_HOSTS="portal.example-cb.org",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        ISOCERT_VAR_DIR=str(tmp_path), DEBUG="0",
    )
    result = subprocess.run([sys.executable, "-m", "isocert", "check", "--deploy",
                             "--fail-level", "WARNING"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
