"""`make run` collects static files with WhiteNoise's manifest storage: it must succeed."""

from io import StringIO

from django.core.management import call_command
from django.test import override_settings


def test_collectstatic_with_the_production_storage(tmp_path, settings):
    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--no-input", stdout=StringIO())
    manifest = (tmp_path / "staticfiles.json").read_text()
    for asset in ("isocert/portal.css", "vendor/htmx/htmx.min.js",
                  "vendor/chartjs/chart.umd.min.js"):
        assert asset in manifest
