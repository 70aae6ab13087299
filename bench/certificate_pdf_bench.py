"""Certificate PDF benchmark: how long one certificate takes to render, and where the time goes.

    .venv/bin/python bench/certificate_pdf_bench.py [--runs 30] [--sites 2]

Signs a realistic revision content with a throw-away key (two sites, one standard, the
signed verification address in the QR code, as the issuing service stores it), renders
it once to warm up (WeasyPrint's imports, the font cache) and then ``--runs`` times the
way the worker does (``certification.pdf.render_certificate_pdf``), in one process.
Prints the median and p95 wall time, the split between preparing the context (the QR
code) and the rest (the template, WeasyPrint's layout and PDF), and the CPU time per certificate, so a shared
machine's waiting is visible; then the same with the QR code's image given, as a redraw
after a new CB mark draws it (the revision keeps the image). Target (issue #19): median
≤ 200 ms.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200


def content(sites: int) -> dict:
    from isocert.certification.signing import qr_url, sign_certificate_data

    data = {
        "number": "ISO50001-2026-000001", "public_code": "K7Q2M4XPA9TB", "revision": 1,
        "reason": "Initial certification",
        "organization": {"name": "Nordlicht Aluminium GmbH",
                         "address": "Hafenstraße 12, 28217 Bremen", "country": "DE",
                         "country_name": "Germany", "legal_identifier": "HRB 12345"},
        "sites": [{"name": f"Site {i + 1}", "address": f"Industrieweg {i + 4}", "city": "Oldenburg",
                   "postcode": "26122", "country": "DE", "country_name": "Germany",
                   "scope": "Die casting and machining of aluminium parts.", "central": i == 0}
                  for i in range(sites)],
        "standards": [{"code": "ISO 50001", "edition": "2018",
                       "title": "Energy management systems"}],
        "scope": "Die casting of aluminium parts for the automotive industry.", "sectors": [17],
        "original_issue_date": "2026-11-26", "issue_date": "2026-11-26",
        "expiry_date": "2029-11-25", "decision_date": "2026-11-26", "soa_version": "",
        "certification_body": {"name": "Hanse Certification GmbH",
                               "address": "1 Assurance Street, 10115 Berlin, Germany"},
        "verify_url": "http://127.0.0.1:8000/verify/K7Q2M4XPA9TB",
    }
    signed_data, signature = sign_certificate_data(data)
    data["qr_url"] = qr_url(data["public_code"], signed_data, signature)
    return data


def set_up(prefix: str) -> None:
    """Django with a throw-away var dir and a new signing key (both benchmarks)."""
    var = tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("ISOCERT_VAR_DIR", var)
    os.environ.setdefault("DEBUG", "1")
    os.environ["CERTIFICATE_SIGNING_KEY_FILE"] = str(Path(var) / "signing-key.pem")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from isocert.core.keys import write_key_file

    write_key_file(Path(os.environ["CERTIFICATE_SIGNING_KEY_FILE"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sites", type=int, default=2)
    args = parser.parse_args()

    set_up("isocert-pdf-bench-")
    from isocert.certification import pdf

    data = content(args.sites)
    started = time.perf_counter()
    pdf.render_certificate_pdf(data)
    first = time.perf_counter() - started

    walls, cpu_started = [], time.process_time()
    for _ in range(args.runs):
        started = time.perf_counter()
        pdf.render_certificate_pdf(data)
        walls.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started) / args.runs
    qr_png = pdf.certificate_qr_png(data["qr_url"])
    redraws, cpu_started = [], time.process_time()
    for _ in range(args.runs):
        started = time.perf_counter()
        pdf.render_certificate_pdf(data, qr_png=qr_png)
        redraws.append(time.perf_counter() - started)
    redraw_cpu = (time.process_time() - cpu_started) / args.runs
    contexts = []
    for _ in range(args.runs):
        started = time.perf_counter()
        pdf.certificate_context(data)
        contexts.append(time.perf_counter() - started)
    walls.sort()
    median = statistics.median(walls) * 1000
    print(f"certificate PDF, {args.sites} site(s), QR of {len(data['qr_url'])} characters, "
          f"{args.runs} runs")
    print(f"  first render (cold): {first * 1000:.0f} ms")
    print(f"  render: median {median:.0f} ms, p95 {walls[int(0.95 * (len(walls) - 1))] * 1000:.0f} ms"
          f" (target ≤ {TARGET_MS} ms: {'met' if median <= TARGET_MS else 'NOT met'})")
    print(f"  of which the context (QR code): median {statistics.median(contexts) * 1000:.0f} ms")
    print(f"  CPU per certificate: {cpu * 1000:.0f} ms")
    print(f"  redraw with the QR image stored (as after a new CB mark): median "
          f"{statistics.median(redraws) * 1000:.0f} ms, CPU {redraw_cpu * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
