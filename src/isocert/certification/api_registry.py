"""The registry's import and export for CB staff: bulk imports of existing certificates
(administrators) and IAF CertSearch exports (administrators and reviewers).

To anyone else every operation answers 404, as if it did not exist.
"""

import datetime
from typing import Literal

from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.core.files import stored_file_response

from . import registry_io

router = Router(tags=["registry"])


class ImportProblemOut(Schema):
    line: int
    field: str
    message: str


class ImportOut(Schema):
    id: int
    file_name: str
    status: str = Field(..., description="queued, running, done or failed")
    total_rows: int
    processed_rows: int = Field(..., description="Rows checked so far (the progress).")
    imported_rows: int
    error_count: int = Field(..., description="All problems found; `errors` lists the first "
                                              "1,000. Any problem means nothing was imported.")
    errors: list[ImportProblemOut]
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class ExportIn(Schema):
    format: Literal["xlsx", "csv"]


class ExportOut(Schema):
    id: int
    format: str
    rows: int
    size: int
    sha256: str
    created_at: datetime.datetime
    download_url: str


def _export_out(export) -> dict:
    return {"id": export.pk, "format": export.format, "rows": export.rows,
            "size": export.file.size, "sha256": export.file.sha256,
            "created_at": export.created_at,
            "download_url": f"/api/v1/registry/exports/{export.pk}/download"}


@router.post("/registry/imports", response={202: ImportOut},
             summary="Upload existing certificates (CSV, CertSearch layout) for import",
             description="CB administrators. The file is checked and imported in the "
                         "background: poll `GET /registry/imports/{import_id}`.")
def create_import(request, file: File[UploadedFile]):
    registry_io.ensure_registry_importer(request.auth)
    return Status(202, registry_io.start_import(upload=file, actor=request.auth))


@router.get("/registry/imports/{import_id}", response=ImportOut,
            summary="An import's progress and, if refused, its row-level problems")
def get_import(request, import_id: int):
    return registry_io.registry_import_get(user=request.auth, pk=import_id)


@router.get("/registry/exports", response=list[ExportOut],
            summary="Prepared IAF CertSearch exports, newest first")
def list_exports(request):
    return [_export_out(e) for e in registry_io.registry_exports(user=request.auth)[:100]]


@router.post("/registry/exports", response={201: ExportOut},
             summary="Prepare an IAF CertSearch export now")
def create_export(request, data: ExportIn):
    registry_io.ensure_registry_exporter(request.auth)
    return Status(201, _export_out(registry_io.create_registry_export(fmt=data.format,
                                                                      actor=request.auth)))


@router.get("/registry/exports/{export_id}/download", response={200: None},
            summary="Download a prepared export")
def download_export(request, export_id: int):
    export = registry_io.registry_export_get(user=request.auth, pk=export_id)
    return stored_file_response(export.file, registry_io.export_file_name(export))
