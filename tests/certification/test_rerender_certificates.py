"""After the CB's mark changes, `isocert rerender-certificates` redraws the current
revision of every certificate (issue #19): resumable, superseded revisions untouched, one
audit event per run, a progress bar."""

import datetime
import hashlib
import io

import pytest
from certification_helpers import certified_cycle
from django.core.management import call_command
from factories import qualify_decision_maker

from isocert.certification import pdf, rerender
from isocert.certification.models import CertificateRevision
from isocert.core.models import AuditEvent

NEW_MARK = "f" * 64


@pytest.fixture
def certificate(nordlicht, alice, rita, adam, dora):
    qualify_decision_maker(dora)
    cycle = certified_cycle(nordlicht, alice, rita, adam, dora, decided=datetime.date(2026, 6, 1))
    certificate = cycle.certificates.get()
    pdf.render_certificate_pdf_file(revision=certificate.revisions.get())  # the worker's task
    return certificate


@pytest.fixture
def new_mark(monkeypatch):
    """As after the operator replaced the mark file."""
    monkeypatch.setattr(rerender, "cb_mark_sha256", lambda: NEW_MARK)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rerender-certificates", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_pdf_records_the_mark_it_was_drawn_with(certificate):
    revision = certificate.revisions.get()

    assert revision.pdf_id is not None
    mark = hashlib.sha256(pdf._cb_mark_path().read_bytes()).hexdigest()
    assert revision.pdf_mark == pdf.cb_mark_sha256() == mark
    assert run("--dry-run")[0].startswith("Certificates to redraw with mark")
    assert run()[0].strip() == "Certificates redrawn: 0."
    assert not AuditEvent.objects.filter(action="certification.certificate.pdfs_redrawn")


def test_after_a_new_mark_the_current_revision_is_redrawn_once(certificate, new_mark):
    revision = certificate.revisions.get()
    old_pdf = revision.pdf_id

    out, err = run()

    revision.refresh_from_db()
    assert out.strip() == "Certificates redrawn: 1."
    assert "1/1 certificates" in err and "100.0 %" in err
    # (The same mark file drawn again gives the same bytes: the store keeps one copy.)
    assert revision.pdf_id == old_pdf and revision.pdf_mark == NEW_MARK
    event = AuditEvent.objects.get(action="certification.certificate.pdfs_redrawn")
    assert event.payload["redrawn"] == 1 and event.payload["remaining"] == 0
    # Run again: nothing left on the old mark, nothing redrawn, no new event.
    assert run()[0].strip() == "Certificates redrawn: 0."
    assert AuditEvent.objects.filter(action="certification.certificate.pdfs_redrawn").count() == 1


def test_superseded_revisions_keep_the_pdf_they_were_issued_with(certificate, new_mark):
    revision = certificate.revisions.get()
    CertificateRevision.objects.filter(pk=revision.pk).update(
        superseded_at=datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC))

    assert run()[0].strip() == "Certificates redrawn: 0."
    revision.refresh_from_db()
    assert revision.pdf_mark != NEW_MARK


def test_a_stopped_run_continues_where_it_stopped(certificate, brightpath, charlie, rita, adam,
                                                  dora, new_mark):
    other = certified_cycle(brightpath, charlie, rita, adam, dora,
                            decided=datetime.date(2026, 6, 2)).certificates.get()
    pdf.render_certificate_pdf_file(revision=other.revisions.get())

    assert run("--limit", "1")[0].strip() == "Certificates redrawn: 1."
    assert rerender.revisions_to_redraw(NEW_MARK).count() == 1
    assert run()[0].strip() == "Certificates redrawn: 1."
    assert rerender.revisions_to_redraw(NEW_MARK).count() == 0


def test_the_first_pdf_keeps_the_qr_image_and_a_redraw_reuses_it(certificate, new_mark,
                                                                  monkeypatch):
    """Choosing the QR code's mask is a quarter of a certificate's drawing: the first PDF
    keeps the image with the revision; the redraw after a new mark draws no QR code."""
    revision = certificate.revisions.get()
    assert bytes(revision.qr_png) == pdf.certificate_qr_png(revision.content["qr_url"])

    def no_qr(text):
        raise AssertionError("the QR code was drawn again")

    monkeypatch.setattr(pdf, "certificate_qr", no_qr)
    assert run()[0].strip() == "Certificates redrawn: 1."
    revision.refresh_from_db()
    assert revision.pdf_mark == NEW_MARK


def test_a_revision_issued_before_the_qr_image_was_kept_gets_it_at_its_redraw(certificate,
                                                                             new_mark):
    CertificateRevision.objects.update(qr_png=b"")

    assert run()[0].strip() == "Certificates redrawn: 1."

    revision = certificate.revisions.get()
    assert bytes(revision.qr_png) == pdf.certificate_qr_png(revision.content["qr_url"])
