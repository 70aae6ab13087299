"""Backups read and restores write stored files through Django's storage API, so an
S3-compatible store (``MEDIA_STORAGE=s3``, django-storages) works like a local directory.
Here against moto's in-process S3."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from isocert.core import backup

moto = pytest.importorskip("moto")
pytest.importorskip("storages")
boto3 = pytest.importorskip("boto3")


@pytest.fixture
def s3_storage(settings, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("source", "target"):
            client.create_bucket(Bucket=bucket)

        def use(bucket):
            settings.STORAGES = {**settings.STORAGES, "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": bucket, "region_name": "us-east-1",
                            "file_overwrite": False}}}
            # Django's setting_changed handler resets default_storage.
            return default_storage
        yield use


def test_stored_files_round_trip_through_s3(s3_storage, tmp_path):
    data = {f"files/{h[:2]}/{h[2:4]}/{h}": content for content in (b"one", b"two", b"three")
            for h in [hashlib.sha256(content).hexdigest()]}
    source = s3_storage("source")
    for name, content in data.items():
        source.save(name, ContentFile(content))

    assert sorted(backup.storage_names(source)) == sorted(data)
    files = backup._backup_media(tmp_path)
    assert {name.removeprefix("media/"): entry["sha256"] for name, entry in files.items()} == {
        name: hashlib.sha256(content).hexdigest() for name, content in data.items()}

    target = s3_storage("target")
    assert next(backup.storage_names(target), None) is None  # an empty installation
    restored = backup._restore_media(tmp_path, {"files": files})

    assert restored == 3
    for name, content in data.items():
        with target.open(name, "rb") as fh:
            assert fh.read() == content
