"""Uploaded files: checked by content, stored under their SHA-256 hash."""

import hashlib
import io
import zipfile
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from .errors import InvalidInput
from .models import StoredFile

# What a certification body accepts as evidence: PDF, Office documents, images.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/msword": "Word document",
    "application/vnd.ms-excel": "Excel workbook",
    "application/vnd.ms-powerpoint": "PowerPoint presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
}
_OOXML_FOLDERS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OLE_EXTENSIONS = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip_office_type(data: bytes) -> str | None:
    """OOXML and OpenDocument files are zip archives: look inside."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                return declared if declared in ALLOWED_TYPES else None
            if "[Content_Types].xml" in names:
                for folder, mime in _OOXML_FOLDERS.items():
                    if any(name.startswith(folder) for name in names):
                        return mime
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def detect_content_type(data: bytes, filename: str = "") -> str | None:
    """The MIME type the bytes really are, if it is one we accept."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_office_type(data)
    if data.startswith(_OLE_MAGIC):
        ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return _OLE_EXTENSIONS.get(ext, "application/msword")
    try:
        matches = puremagic.magic_string(data[:8192])
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        if match.mime_type.startswith("image/") and match.mime_type in ALLOWED_TYPES:
            return match.mime_type
    return None


@dataclass
class UploadCheck:
    data: bytes
    content_type: str
    sha256: str


def check_upload(upload, *, field: str = "file") -> UploadCheck:
    """Read an uploaded file and refuse what is too large or of the wrong kind."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload is None:
        raise InvalidInput("Choose a file to upload.", fields={field: "A file is required."})
    if upload.size is not None and upload.size > limit:
        raise InvalidInput(
            "The file is too large.",
            fields={field: f"Files may be at most {limit // (1024 * 1024)} MB."},
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(
            "The file is too large.",
            fields={field: f"Files may be at most {limit // (1024 * 1024)} MB."},
        )
    if not data:
        raise InvalidInput("The file is empty.", fields={field: "The file is empty."})
    content_type = detect_content_type(data, getattr(upload, "name", "") or "")
    if content_type is None:
        raise InvalidInput(
            "This kind of file is not accepted.",
            fields={field: "Upload a PDF, an Office document or an image (PNG, JPEG, GIF, WebP)."},
        )
    return UploadCheck(data=data, content_type=content_type,
                       sha256=hashlib.sha256(data).hexdigest())


def store_file(checked: UploadCheck) -> StoredFile:
    """Keep the bytes once under their hash; the same content is stored once."""
    stored, created = StoredFile.objects.get_or_create(
        sha256=checked.sha256,
        defaults={"size": len(checked.data), "content_type": checked.content_type},
    )
    if not default_storage.exists(stored.storage_name):
        # Written before commit: an orphan file under its own hash is harmless
        # (the next upload of the same bytes reuses it), a row without bytes is not.
        default_storage.save(stored.storage_name, ContentFile(checked.data))
    return stored


def open_stored(stored: StoredFile):
    return default_storage.open(stored.storage_name, "rb")


def _download_headers(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def stored_file_response(stored: StoredFile, filename: str) -> FileResponse:
    """A stored file as a download: never rendered inline, never sniffed."""
    return _download_headers(FileResponse(open_stored(stored), as_attachment=True,
                                          filename=filename, content_type=stored.content_type))


def bytes_download_response(data: bytes, content_type: str, filename: str) -> HttpResponse:
    """Bytes made on request (a report) as a download, with the same protections."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return _download_headers(response)

