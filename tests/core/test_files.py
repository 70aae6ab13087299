"""Upload type checks open zip archives (Office documents) without unpacking a bomb."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import docx_upload
from openpyxl import Workbook

from isocert.core import files
from isocert.core.errors import InvalidInput
from isocert.core.files import ZIP_MIMETYPE_READ, check_upload, check_zip

ODT_MIME = "application/vnd.oasis.opendocument.text"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MB = 1024 * 1024


def zip_bytes(members: dict[str, bytes], *, level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zero_bomb(megabytes: int) -> bytes:
    """An OpenDocument-looking zip whose ``mimetype`` member is ``megabytes`` MB of zeros
    (200 MB compress to under 1 MB at level 1, which is quick to write)."""
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
          archive.open("mimetype", "w") as member):
        chunk = bytes(MB)
        for _ in range(megabytes):
            member.write(chunk)
    return buffer.getvalue()


def upload(data: bytes, name: str = "evidence.odt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def read_sizes(monkeypatch):
    """Every size asked of a zip member's reader (-1 or None: the whole member)."""
    sizes: list[int | None] = []
    original = zipfile.ZipExtFile.read

    def spy(self, n=-1):
        sizes.append(n)
        return original(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", spy)
    return sizes


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zero_bomb(200)


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(bomb, read_sizes):
    assert len(bomb) < 1 * MB

    with pytest.raises(InvalidInput) as refused:
        check_upload(upload(bomb))

    assert refused.value.status == 422
    assert "decompression bomb" in refused.value.fields["file"]
    assert read_sizes == []   # refused on what the archive declares: nothing was inflated


def test_the_refusal_names_the_form_field(bomb):
    with pytest.raises(InvalidInput) as refused:
        check_upload(upload(bomb), field="energy_evidence")

    assert set(refused.value.fields) == {"energy_evidence"}


def test_the_mimetype_member_is_read_a_few_hundred_bytes_at_most(read_sizes):
    # Within every limit (800 kB: below the size whose ratio is checked), but far longer
    # than any MIME type: read whole, it would be inflated in full only to be compared.
    padded = ODT_MIME.encode() + b" " + b"lorem ipsum dolor sit amet " * 30_000
    data = zip_bytes({"mimetype": padded})

    with pytest.raises(InvalidInput):
        check_upload(upload(data))

    assert read_sizes and all(n is not None and 0 <= n <= ZIP_MIMETYPE_READ + 1
                              for n in read_sizes)


def test_a_bomb_within_the_ratio_is_refused_by_the_total(settings, read_sizes):
    settings.UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES = 1 * MB
    data = zip_bytes({"mimetype": ODT_MIME.encode(),
                      "content.xml": b"<p>" + b"x" * (2 * MB) + b"</p>"}, level=1)
    settings.UPLOAD_ZIP_MAX_RATIO = 10_000   # the total alone must refuse it

    with pytest.raises(InvalidInput) as refused:
        check_upload(upload(data))

    assert refused.value.fields["file"] == ("Unpacked, the archive would take 2.0\xa0MB; "
                                            "at most 1.0\xa0MB are accepted.")
    assert read_sizes == []


def test_too_many_members_are_refused_before_the_directory_is_parsed(settings, monkeypatch):
    settings.UPLOAD_ZIP_MAX_MEMBERS = 50
    data = zip_bytes({"[Content_Types].xml": b"<Types/>",
                      **{f"word/media/image{i}.png": b"" for i in range(50)}})

    def never(*args, **kwargs):
        raise AssertionError("the archive's directory was parsed")

    monkeypatch.setattr(files.zipfile, "ZipFile", never)
    with pytest.raises(InvalidInput) as refused:
        check_upload(upload(data, "report.docx"))

    assert refused.value.fields["file"] == "An archive may hold at most 50 files."


def test_the_default_member_limit_refuses_ten_thousand_and_one(settings):
    data = zip_bytes({"[Content_Types].xml": b"<Types/>",
                      **{f"word/{i}.xml": b"" for i in range(settings.UPLOAD_ZIP_MAX_MEMBERS)}})

    with pytest.raises(InvalidInput, match="too many parts"):
        check_upload(upload(data, "report.docx"))


def test_an_unusual_compression_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("mimetype", ODT_MIME)

    with pytest.raises(InvalidInput) as refused:
        check_upload(upload(buffer.getvalue()))

    assert "compression" in refused.value.fields["file"]


def test_an_encrypted_member_is_not_accepted():
    data = bytearray(zip_bytes({"mimetype": ODT_MIME.encode()}))
    # Set the "encrypted" flag in the local and the central header: zipfile then wants a
    # password to read the member.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x01

    with pytest.raises(InvalidInput, match="not accepted"):
        check_upload(upload(bytes(data)))


def test_a_docx_an_xlsx_and_an_odt_are_still_accepted(read_sizes):
    workbook = Workbook()
    workbook.active.append(["Month", "Electricity"])
    workbook.active.append(["2025-01", 1000])
    xlsx = io.BytesIO()
    workbook.save(xlsx)
    odt = zip_bytes({"mimetype": ODT_MIME.encode(), "content.xml": b"<office:document/>"})

    assert check_upload(docx_upload()).content_type == DOCX_MIME
    assert check_upload(upload(xlsx.getvalue(), "readings.xlsx")).content_type == XLSX_MIME
    assert check_upload(upload(odt)).content_type == ODT_MIME
    assert read_sizes == [ZIP_MIMETYPE_READ + 1]


def test_check_zip_takes_a_tighter_total():
    rows = b"".join(f'<row r="{i}"/>'.encode() for i in range(80_000))   # 1.3 MB, 7:1
    data = zip_bytes({"xl/worksheets/sheet1.xml": rows})

    check_zip(data)
    with pytest.raises(InvalidInput, match="expands far beyond"):
        check_zip(data, max_total=1 * MB)
