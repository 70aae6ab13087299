"""Redrawing every certificate after the CB's mark changed: how long for 10,000?

    .venv/bin/python bench/certificate_rerender_bench.py [--count 500]

Builds a throw-away database (SQLite under a temporary directory unless DATABASE_URL is
set), creates ``--count`` certificates each with one current revision (signed content
as the issuing service stores it: two sites, the QR code's signed address), and runs
what `isocert rerender-certificates` runs after a new mark — one process, as on one
worker, storing each PDF. Prints the rate, the time per certificate and the projection
for 10,000 certificates. Target (issue #19): 10,000 in ≤ 30 minutes on one worker.

Each revision carries the QR code's image its first PDF stored (a redraw reuses it);
``--no-stored-qr`` measures revisions issued before the portal kept it (each redraw then
draws the QR code too, and keeps it for the next).
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MINUTES = 30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--no-stored-qr", action="store_true",
                        help="revisions without the QR image a first PDF stores")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from certificate_pdf_bench import content, set_up

    set_up("isocert-rerender-bench-")
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from isocert.certification import pdf, rerender
    from isocert.certification.models import Certificate, CertificateRevision

    setup_test_environment()
    from django.db import connection

    test_db = connection.creation.create_test_db(verbosity=0)
    try:
        call_command("migrate", verbosity=0)
        base = content(2)
        qr_png = b"" if args.no_stored_qr else pdf.certificate_qr_png(base["qr_url"])
        for n in range(args.count):
            number = f"ISO9001-2026-{n + 1:06d}"
            data = {**base, "number": number, "public_code": f"B{n:011d}"}
            certificate = Certificate.objects.create(
                number=number, public_code=data["public_code"], identity_number=number,
                entity_id=f"DE-{n}", organization_name=f"Client {n}", name_key=f"client {n}",
                organization_country="DE", standards=data["standards"], scope=data["scope"],
                original_issue_date=datetime.date(2026, 11, 26),
                issue_date=datetime.date(2026, 11, 26), expiry_date=datetime.date(2029, 11, 25))
            signed_data, signature = data["qr_url"].split("?d=")[1].split("&s=")
            CertificateRevision.objects.create(
                certificate=certificate, revision=1, reason="Initial certification",
                content=data, signed_data=signed_data, signature=signature, qr_png=qr_png)
        print(f"{args.count} certificates on {connection.vendor}"
              f"{'' if qr_png else ', QR images not stored yet'}; redrawing with a new mark…")
        cpu, started = time.process_time(), time.perf_counter()
        done = rerender.rerender_certificates()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    per = wall / done
    projected = per * 10_000 / 60
    print(f"  redrawn: {done} in {wall:.1f} s ({done / wall:.2f}/s), "
          f"{per * 1000:.0f} ms per certificate (CPU {cpu / done * 1000:.0f} ms)")
    print(f"  10,000 certificates: {projected:.1f} min on one worker "
          f"(target ≤ {TARGET_MINUTES} min: {'met' if projected <= TARGET_MINUTES else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
