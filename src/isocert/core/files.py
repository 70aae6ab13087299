"""Uploaded files: checked by content, stored under their SHA-256 hash."""

import hashlib
import io
import logging
import zipfile
import zlib
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.dispatch import Signal
from django.http import FileResponse, Http404, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header

from .errors import InvalidInput
from .models import StoredFile

logger = logging.getLogger(__name__)

# Sent when a stored file's bytes are not on the storage (a lost disk, a second server
# without the shared store, a bucket emptied by hand): ``stored`` is the StoredFile row. The
# apps that generate files (certificate, audit report and quotation PDFs) listen and queue
# the file again; core imports none of them (ARCHITECTURE.md).
stored_file_missing = Signal()


class StoredFileMissing(Http404):
    """A stored file's bytes are missing: a 404 naming the problem, never a 500."""

    def __init__(self, message: str = "The file is missing from the portal's storage. The "
                                      "certification body has been told."):
        super().__init__(message)
        self.message = message


class FileRegenerating(StoredFileMissing):
    """A generated file is missing and is being made again."""

    def __init__(self):
        super().__init__("The file is missing from the portal's storage and is being made "
                         "again: try again in a minute.")

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


# Zip archives are inspected by what their central directory declares, before anything is
# decompressed: a few hundred kilobytes of zeros inflate to gigabytes (the "decompression
# bomb" of the zipfile documentation's "Decompression pitfalls"). The rules follow Apache
# POI's ZipSecureFile, which guards every Office file Java reads: a bounded number of members,
# a bounded total, and at most 100 bytes out per byte in for any member large enough to matter.
ZIP_MIMETYPE_READ = 256          # the longest MIME type we accept has 73 characters
ZIP_RATIO_GRACE = 1024 * 1024    # small members (styles, content types) may compress better
_ZIP_CENTRAL_HEADER = b"PK\x01\x02"
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}   # what Office and LibreOffice write


def open_checked_zip(data: bytes, *, field: str = "file",
                     max_total: int | None = None) -> zipfile.ZipFile:
    """The zip archive in ``data``, opened only if what it declares is within the limits;
    nothing in it has been decompressed yet.

    ``zipfile`` never inflates a member past the size the central directory declares, so a
    check of the declared sizes bounds what any later reader (our type check, openpyxl)
    can produce. Limits: ``UPLOAD_ZIP_MAX_MEMBERS``, ``UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES``
    (``max_total`` tightens it for a caller that needs less) and ``UPLOAD_ZIP_MAX_RATIO``.
    Raises ``InvalidInput`` naming ``field``; a broken archive raises
    ``zipfile.BadZipFile`` for the caller to word. The caller closes the archive.
    """
    max_members = settings.UPLOAD_ZIP_MAX_MEMBERS
    total_limit = settings.UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES
    if max_total is not None:
        total_limit = min(total_limit, max_total)
    # Every entry zipfile parses starts with this signature, so the count bounds the
    # central directory before ZipFile builds an object per entry (20 MB of empty entries
    # are 230,000 of them: two seconds and 120 MB only to open the archive).
    if data.count(_ZIP_CENTRAL_HEADER) > max_members:
        raise InvalidInput("The file holds too many parts.", fields={
            field: f"An archive may hold at most {max_members:,} files."})
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        _check_members(archive.infolist(), field, total_limit)
    except BaseException:
        archive.close()
        raise
    return archive


def check_zip(data: bytes, *, field: str = "file", max_total: int | None = None) -> None:
    """Refuse a zip archive beyond the limits (see ``open_checked_zip``)."""
    open_checked_zip(data, field=field, max_total=max_total).close()


def _check_members(infos: list[zipfile.ZipInfo], field: str, total_limit: int) -> None:
    ratio = settings.UPLOAD_ZIP_MAX_RATIO
    total = 0
    for info in infos:
        if info.compress_type not in _ZIP_METHODS:
            raise InvalidInput("This kind of file is not accepted.", fields={
                field: "The archive uses a compression Office documents never use."})
        if info.file_size > ZIP_RATIO_GRACE and info.file_size > ratio * max(info.compress_size, 1):
            raise InvalidInput("The file expands far beyond its size.", fields={
                field: f"A part of the archive would grow more than {ratio} times when "
                       "unpacked; this is refused as a decompression bomb."})
        total += info.file_size
    if total > total_limit:
        raise InvalidInput("The file expands far beyond its size.", fields={
            field: f"Unpacked, the archive would take {filesizeformat(total)}; "
                   f"at most {filesizeformat(total_limit)} are accepted."})


def _zip_office_type(data: bytes, field: str) -> str | None:
    """OOXML and OpenDocument files are zip archives: look inside, reading at most
    ``ZIP_MIMETYPE_READ`` bytes of any member (never a whole one)."""
    try:
        with open_checked_zip(data, field=field) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    head = member.read(ZIP_MIMETYPE_READ + 1)
                if len(head) > ZIP_MIMETYPE_READ:
                    return None
                declared = head.decode("ascii", "replace").strip()
                return declared if declared in ALLOWED_TYPES else None
            if "[Content_Types].xml" in names:
                for folder, mime in _OOXML_FOLDERS.items():
                    if any(name.startswith(folder) for name in names):
                        return mime
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, zlib.error, NotImplementedError,
            RuntimeError, ValueError):  # RuntimeError: an encrypted member
        return None
    return None


def detect_content_type(data: bytes, filename: str = "", *, field: str = "file") -> str | None:
    """The MIME type the bytes really are, if it is one we accept.

    A zip archive beyond the limits of ``check_zip`` raises ``InvalidInput`` on ``field``.
    """
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_office_type(data, field)
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
    content_type = detect_content_type(data, getattr(upload, "name", "") or "", field=field)
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
    """The stored file opened for reading; ``StoredFileMissing`` (a 404) if its bytes are
    gone, after telling the apps that can make it again (``stored_file_missing``)."""
    try:
        return default_storage.open(stored.storage_name, "rb")
    except FileNotFoundError:
        logger.error("Stored file %s (%s) is missing from the storage.", stored.sha256,
                     stored.storage_name)
        answers = stored_file_missing.send(sender=StoredFile, stored=stored)
        if any(regenerating for _receiver, regenerating in answers):
            raise FileRegenerating() from None
        raise StoredFileMissing() from None


def queue_once(key: str, enqueue, *, seconds: int = 300) -> bool:
    """Call ``enqueue`` unless it was called for ``key`` in the last ``seconds`` (many
    downloads of one missing file queue one new rendering); True when a rendering is queued
    or pending."""
    if cache.add(f"isocert:regenerate:{key}", 1, seconds):
        enqueue()
    return True


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

