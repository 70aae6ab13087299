"""The registry's import and export for CB staff: bulk imports of existing certificates
(administrators) and IAF CertSearch exports (administrators and reviewers).

To anyone else every operation answers 404, as if it did not exist.
"""

import datetime
from typing import Literal

from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from isocert.core.api import ErrorOut
from isocert.core.files import stored_file_response

from . import permissions, selectors, services

router = Router(tags=["registry"])


class RegistryImportProblemOut(Schema):
    line: int
    field: str
    message: str


class RegistryImportOut(Schema):
    id: int
    file_name: str
    status: str = Field(..., description="queued, running, done or failed")
    attempt: int = Field(..., description="1, and one more each time it is retried.")
    total_rows: int
    processed_rows: int = Field(..., description="Rows checked so far (the progress).")
    imported_rows: int
    error_count: int = Field(..., description="All problems found; `errors` lists the first "
                                              "1,000. Any problem means nothing was imported.")
    errors: list[RegistryImportProblemOut]
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class ExportIn(Schema):
    format: Literal["xlsx", "csv"]
    with_ict: bool = Field(False, description="Add the column `Remote auditing (ICT)` after "
                           "CertSearch's: where ICT was used in the audits of each "
                           "certificate's cycle (IAF MD 4:2022 §4.2), `None: held on site`, "
                           "or empty for a certificate imported from earlier records. Not a "
                           "CertSearch field (IAF MD 28): leave it off for the upload.")


class ExportOut(Schema):
    id: int
    format: str
    with_ict: bool = Field(..., description="The file has the column `Remote auditing (ICT)`.")
    status: str = Field(..., description="queued, running, done or failed")
    attempt: int = Field(..., description="1, and one more each time it is retried.")
    total_rows: int = Field(..., description="Certificates to write (set when it starts).")
    rows: int = Field(..., description="Certificates written so far; all of them when done.")
    error: str = Field(..., description="Why a failed export stopped (its worker died: "
                                        "no progress for `REGISTRY_JOB_TIMEOUT_MINUTES`).")
    size: int | None = Field(..., description="Bytes of the file, once done.")
    sha256: str | None = Field(..., description="SHA-256 of the file, once done.")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    download_url: str | None = Field(..., description="Once done.")


def _export_out(export) -> dict:
    done = export.file_id is not None
    return {"id": export.pk, "format": export.format, "with_ict": export.with_ict,
            "status": export.status,
            "attempt": export.attempt, "total_rows": export.total_rows, "rows": export.rows,
            "error": export.error,
            "size": export.file.size if done else None,
            "sha256": export.file.sha256 if done else None,
            "created_at": export.created_at, "finished_at": export.finished_at,
            "download_url": f"/api/v1/registry/exports/{export.pk}/download" if done else None}


@router.post("/registry/imports", response={202: RegistryImportOut, 404: ErrorOut},
             summary="Upload existing certificates (CSV, CertSearch layout) for import",
             description="CB administrators. The file is checked and imported in the "
                         "background: poll `GET /registry/imports/{import_id}`.")
def create_import(request, file: File[UploadedFile]):
    permissions.ensure_registry_importer(request.auth)
    return Status(202, services.start_import(upload=file, actor=request.auth))


@router.get("/registry/imports/{import_id}", response=RegistryImportOut,
            summary="An import's progress and, if refused, its row-level problems")
def get_import(request, import_id: int):
    return selectors.registry_import_get(user=request.auth, pk=import_id)


@router.get("/registry/exports", response={200: list[ExportOut], 404: ErrorOut},
            summary="IAF CertSearch exports, newest first")
def list_exports(request):
    return [_export_out(e) for e in selectors.registry_exports(user=request.auth)[:100]]


@router.post("/registry/exports", response={202: ExportOut, 404: ErrorOut},
             summary="Prepare an IAF CertSearch export",
             description="The whole registry is written in the background by the task "
                         "worker (minutes for a million certificates): poll "
                         "`GET /registry/exports/{export_id}` until `status` is `done`, "
                         "then follow `download_url`.")
def create_export(request, data: ExportIn):
    return Status(202, _export_out(services.request_registry_export(
        fmt=data.format, with_ict=data.with_ict, actor=request.auth)))


@router.get("/registry/exports/{export_id}", response=ExportOut,
            summary="An export's status and progress")
def get_export(request, export_id: int):
    return _export_out(selectors.registry_export_get(user=request.auth, pk=export_id))


@router.get("/registry/exports/{export_id}/download", response={200: None, 409: ErrorOut},
            summary="Download a prepared export",
            description="409 `conflict` while the export is queued or running, or when it "
                        "failed.")
def download_export(request, export_id: int):
    export = selectors.ready_export(user=request.auth, pk=export_id)
    return stored_file_response(export.file, selectors.export_file_name(export))


@router.post("/registry/imports/{import_id}/retry",
             response={202: RegistryImportOut, 404: ErrorOut, 409: ErrorOut},
             summary="Queue a failed import again",
             description="CB administrators. The same file is checked and imported again "
                         "by the task worker — after the worker died under it (it is failed "
                         "after `REGISTRY_JOB_TIMEOUT_MINUTES` without progress), or after "
                         "the file's problems were solved in the registry. 409 "
                         "`invalid_transition` unless the import failed.")
def retry_import(request, import_id: int):
    return Status(202, services.retry_registry_import(import_id=import_id,
                                                         actor=request.auth))


@router.post("/registry/exports/{export_id}/retry",
             response={202: ExportOut, 404: ErrorOut, 409: ErrorOut},
             summary="Queue a failed export again",
             description="CB administrators and reviewers. 409 `invalid_transition` unless "
                         "the export failed.")
def retry_export(request, export_id: int):
    return Status(202, _export_out(services.retry_registry_export(export_id=export_id,
                                                                     actor=request.auth)))
