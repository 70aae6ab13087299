"""The scale-out settings read from the environment (settings.py, docs/configuration.md):
REDIS_URL, SESSION_ENGINE, LOOKUP_FLUSH_SECONDS, MEDIA_STORAGE=s3 with its AWS_* values.
Each case imports the settings in a clean process, as a server would start."""

import json
import os
import subprocess
import sys

SHOW = ("import json, isocert.settings as s; print(json.dumps({'caches': s.CACHES, "
        "'storage': s.STORAGES['default'], 'session': s.SESSION_ENGINE, "
        "'flush': s.LOOKUP_FLUSH_SECONDS}))")
SCALE_VARIABLES = ("REDIS_", "MEDIA_STORAGE", "AWS_", "SESSION_ENGINE", "LOOKUP_FLUSH")


def settings_with(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SCALE_VARIABLES)}
    return subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True,
                          timeout=60, env={**clean, "ISOCERT_VAR_DIR": str(tmp_path), **env})


def read(tmp_path, **env) -> dict:
    result = settings_with(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_scale_out_settings_one_machine_keeps_its_defaults(tmp_path):
    found = read(tmp_path)

    assert found["caches"]["default"]["BACKEND"].endswith("db.DatabaseCache")
    assert found["caches"]["public_search"]["BACKEND"].endswith("locmem.LocMemCache")
    assert found["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert found["session"] == "django.contrib.sessions.backends.db"
    assert found["flush"] == 10


def test_redis_and_s3_from_the_environment(tmp_path):
    found = read(tmp_path, REDIS_URL="redis://10.0.0.5:6379/2", REDIS_KEY_PREFIX="cb-prod",
                 SESSION_ENGINE="cached_db", LOOKUP_FLUSH_SECONDS="5", MEDIA_STORAGE="s3",
                 AWS_STORAGE_BUCKET_NAME="cb-media", AWS_S3_ENDPOINT_URL="https://s3.internal",
                 AWS_S3_REGION_NAME="eu-central-1", AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                 AWS_SECRET_ACCESS_KEY="secret-example", AWS_S3_ADDRESSING_STYLE="path")

    assert found["caches"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://10.0.0.5:6379/2", "KEY_PREFIX": "cb-prod"}
    assert found["session"] == "django.contrib.sessions.backends.cached_db"
    assert found["flush"] == 5
    assert found["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = found["storage"]["OPTIONS"]
    assert {k: options[k] for k in ("bucket_name", "endpoint_url", "region_name",
                                    "access_key", "secret_key", "addressing_style",
                                    "default_acl", "querystring_auth")} == {
        "bucket_name": "cb-media", "endpoint_url": "https://s3.internal",
        "region_name": "eu-central-1", "access_key": "AKIDEXAMPLE",
        "secret_key": "secret-example", "addressing_style": "path",
        "default_acl": "private", "querystring_auth": True}


def test_the_s3_secret_may_come_from_a_file(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("from-a-file\n")

    found = read(tmp_path, MEDIA_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="cb-media",
                 AWS_SECRET_ACCESS_KEY_FILE=str(secret))

    assert found["storage"]["OPTIONS"]["secret_key"] == "from-a-file"
    assert found["storage"]["OPTIONS"]["endpoint_url"] is None  # AWS itself


def test_values_that_cannot_work_stop_the_start_naming_the_variable(tmp_path):
    cases = {
        "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME": {"MEDIA_STORAGE": "s3"},
        "MEDIA_STORAGE must be local or s3, not 'ftp'": {"MEDIA_STORAGE": "ftp"},
        "SESSION_ENGINE must be one of db, cached_db, cache, not 'file'":
            {"SESSION_ENGINE": "file"},
        "LOOKUP_FLUSH_SECONDS must be at least 1": {"LOOKUP_FLUSH_SECONDS": "0"},
    }
    for message, env in cases.items():
        result = settings_with(tmp_path, **env)
        assert result.returncode != 0
        assert f"ImproperlyConfigured: {message}" in result.stderr, result.stderr
