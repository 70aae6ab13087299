"""Documents attached to an application: checked by content, stored once under their hash."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import docx_upload, pdf_upload

from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.files import open_stored
from isocert.core.models import AuditEvent, StoredFile
from isocert.registration.models import ApplicationDocument
from isocert.registration.services import (
    add_application_document,
    create_application,
    remove_application_document,
)

PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def counts():
    return (ApplicationDocument.objects.count(), StoredFile.objects.count(),
            AuditEvent.objects.count())


def test_a_pdf_is_accepted_and_stored_under_its_sha256(draft, alice):
    upload = pdf_upload("EnMS manual.pdf")
    data = upload.read()
    upload.seek(0)
    sha256 = hashlib.sha256(data).hexdigest()

    document = add_application_document(application=draft, actor=alice, upload=upload,
                                        kind="manual", description=" Current manual ")

    assert (document.original_name, document.kind, document.description) == (
        "EnMS manual.pdf", "manual", "Current manual")
    assert document.uploaded_by == alice
    assert (document.file.sha256, document.file.size, document.file.content_type) == (
        sha256, len(data), PDF_MIME)
    assert document.file.storage_name == f"files/{sha256[:2]}/{sha256[2:4]}/{sha256}"
    with open_stored(document.file) as stored:
        assert stored.read() == data
    event = AuditEvent.objects.last()
    assert event.action == "registration.document.added"
    assert event.payload == {"application": draft.pk, "name": "EnMS manual.pdf", "kind": "manual",
                             "sha256": sha256, "size": len(data)}


def test_a_docx_is_accepted_as_a_word_document(draft, bob):
    document = add_application_document(application=draft, actor=bob, upload=docx_upload(),
                                        kind="process_map")

    assert document.file.content_type == DOCX_MIME
    assert document.original_name == "process-map.docx"


def _zip_without_office_parts() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "not a Word document")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data"), [
    ("manual.pdf", b"This is just text pretending to be a PDF.\n"),
    ("manual.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
     + b"This program cannot be run in DOS mode."),
    ("process-map.docx", _zip_without_office_parts()),
    ("empty.pdf", b""),
])
def test_files_that_are_not_what_they_claim_are_refused(draft, alice, name, data):
    before = counts()

    with pytest.raises(InvalidInput) as excinfo:
        add_application_document(application=draft, actor=alice, kind="manual",
                                 upload=SimpleUploadedFile(name, data, content_type=PDF_MIME))

    assert list(excinfo.value.fields) == ["file"]
    assert counts() == before
    sha256 = hashlib.sha256(data).hexdigest()
    assert not default_storage.exists(f"files/{sha256[:2]}/{sha256[2:4]}/{sha256}")


def test_a_missing_file_is_refused(draft, alice):
    before = counts()
    with pytest.raises(InvalidInput) as excinfo:
        add_application_document(application=draft, actor=alice, upload=None, kind="manual")
    assert list(excinfo.value.fields) == ["file"]
    assert counts() == before


def test_the_size_limit_comes_from_settings(draft, alice, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    header = b"%PDF-1.4\n"
    at_limit = header + b"%" * (settings.UPLOAD_MAX_BYTES - len(header))
    before = counts()

    with pytest.raises(InvalidInput) as excinfo:
        add_application_document(application=draft, actor=alice, kind="manual",
                                 upload=SimpleUploadedFile("big.pdf", at_limit + b"%"))

    assert excinfo.value.fields == {"file": "Files may be at most 1 MB."}
    assert counts() == before

    document = add_application_document(application=draft, actor=alice, kind="manual",
                                        upload=SimpleUploadedFile("just-fits.pdf", at_limit))
    assert document.file.size == settings.UPLOAD_MAX_BYTES


def test_the_size_limit_holds_when_the_upload_does_not_say_its_size(draft, alice, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"%" * 2000)
    upload.size = None
    before = counts()

    with pytest.raises(InvalidInput, match="too large"):
        add_application_document(application=draft, actor=alice, upload=upload, kind="manual")
    assert counts() == before


def test_the_same_bytes_are_stored_once(draft, nordlicht, alice, bob):
    other = create_application(organization=nordlicht, actor=bob)

    first = add_application_document(application=draft, actor=alice, upload=pdf_upload("a.pdf"),
                                     kind="manual")
    second = add_application_document(application=other, actor=bob,
                                      upload=pdf_upload("copy of a.pdf"), kind="scope")

    assert first.pk != second.pk
    assert first.file_id == second.file_id
    assert StoredFile.objects.count() == 1
    directory = f"files/{first.file.sha256[:2]}/{first.file.sha256[2:4]}"
    assert default_storage.listdir(directory) == ([], [first.file.sha256])


def test_an_unknown_kind_is_refused(draft, alice):
    before = counts()
    with pytest.raises(InvalidInput) as excinfo:
        add_application_document(application=draft, actor=alice, upload=pdf_upload(),
                                 kind="selfie")
    assert list(excinfo.value.fields) == ["kind"]
    assert counts() == before


@pytest.mark.parametrize("actor", ["vera", "rita", "charlie"])
def test_only_owners_and_editors_upload(request, draft, actor):
    user = request.getfixturevalue(actor)
    before = counts()
    with pytest.raises(NotPermitted):
        add_application_document(application=draft, actor=user, upload=pdf_upload(), kind="manual")
    assert counts() == before


def test_no_uploads_once_submitted(submitted, alice):
    before = counts()
    with pytest.raises(Conflict):
        add_application_document(application=submitted, actor=alice, upload=pdf_upload(),
                                 kind="manual")
    assert counts() == before


def test_a_document_is_removed_from_a_draft_but_not_after_submission(draft, alice):
    from isocert.registration.services import submit_application

    kept = add_application_document(application=draft, actor=alice, upload=docx_upload(),
                                    kind="process_map")
    dropped = add_application_document(application=draft, actor=alice, upload=pdf_upload(),
                                       kind="other")

    remove_application_document(document=dropped, actor=alice)

    assert list(draft.documents.all()) == [kept]
    assert AuditEvent.objects.last().action == "registration.document.removed"

    submit_application(application=draft, actor=alice)
    kept.refresh_from_db()
    before = counts()
    with pytest.raises(Conflict):
        remove_application_document(document=kept, actor=alice)
    assert counts() == before


def test_an_upload_racing_a_submission_is_refused(draft, alice, bob):
    from isocert.registration.models import Application
    from isocert.registration.services import submit_application

    seen_by_bob = Application.objects.get(pk=draft.pk)  # Bob opened the draft...
    submit_application(application=draft, actor=alice)  # ...then Alice submitted it.
    before = counts()

    with pytest.raises(Conflict):
        add_application_document(application=seen_by_bob, actor=bob, upload=pdf_upload(),
                                 kind="manual")

    assert counts() == before


def test_a_removal_racing_a_submission_is_refused(draft, alice, bob):
    from isocert.registration.services import submit_application

    document = add_application_document(application=draft, actor=alice, upload=pdf_upload(),
                                        kind="manual")
    seen_by_bob = ApplicationDocument.objects.select_related("application").get(pk=document.pk)
    submit_application(application=draft, actor=alice)
    before = counts()

    with pytest.raises(Conflict):
        remove_application_document(document=seen_by_bob, actor=bob)

    assert counts() == before
