"""Generate a synthetic registry CSV and import it through the real importer.

    DATABASE_URL=... python bench/registry_generate.py [--certificates 1000000]
        [--output FILE] [--generate-only] [--input FILE] [--seed 1]

The file is in the IAF CertSearch layout of ``isocert.registry.certsearch``: company
names from word lists with legal forms, ~10 % multi-site certificates (2–4 sites), ~15 %
with two standards, 20 countries, mostly Active. The import runs ``run_import`` on a
``CertificateImport`` made from the file (what the ``import-certificates`` command does)
against the configured database (migrated first), and prints the generation time, the
import time and rows per second. Numbers are prefixed per run, so runs can repeat against
the same database.
"""

import argparse
import csv
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

FIRST = ["Nord", "Süd", "Alpen", "Rhein", "Baltic", "Atlas", "Blue", "Green", "Silver", "Iron",
         "Crystal", "Golden", "Royal", "United", "Pacific", "Atlantic", "Sierra", "Delta",
         "Orion", "Polar", "Sun", "Star", "Metro", "Euro", "Global", "Prime", "Nova", "Terra",
         "Aqua", "Vital", "Helio", "Lumen", "Castello", "Fjord", "Kraków", "Łódź", "Évora",
         "Zürich", "Ostsee", "Danube"]
SECOND = ["Aluminium", "Logistics", "Foods", "Engineering", "Plastics", "Textiles", "Software",
          "Construction", "Chemicals", "Pharma", "Electronics", "Paper", "Energy", "Water",
          "Metal Works", "Automotive", "Consulting", "Facility Services", "Printing",
          "Packaging", "Furniture", "Glass", "Ceramics", "Transport", "Medical", "Dairy",
          "Brewery", "Solar", "Cables", "Tools"]
THIRD = ["", "", "", "Group", "Systems", "Solutions", "Industries", "Holding", "International",
         "Technik", "Services", "& Partners", "& Söhne"]
LEGAL = {"DE": ["GmbH", "AG", "GmbH & Co. KG"], "AT": ["GmbH", "AG"], "CH": ["AG", "GmbH", "SA"],
         "FR": ["SA", "SAS", "SARL"], "IT": ["S.p.A.", "S.r.l."], "ES": ["S.A.", "S.L."],
         "GB": ["Ltd", "PLC", "LLP"], "US": ["Inc.", "LLC", "Corp."], "NL": ["B.V.", "N.V."],
         "PL": ["Sp. z o.o.", "S.A."], "SE": ["AB"], "DK": ["A/S", "ApS"], "TR": ["A.Ş."],
         "CN": ["Co., Ltd."], "IN": ["Pvt. Ltd.", "Ltd."], "JP": ["K.K."], "BR": ["Ltda.", "S.A."],
         "MX": ["S.A. de C.V."], "ZA": ["(Pty) Ltd"], "CA": ["Inc.", "Ltd."]}
COUNTRIES = list(LEGAL)
COUNTRY_WEIGHTS = [14, 3, 3, 8, 8, 6, 8, 9, 3, 4, 2, 2, 4, 8, 6, 3, 3, 2, 2, 2]
CITIES = ["Bremen", "Lyon", "Milano", "Valencia", "Leeds", "Austin", "Utrecht", "Gdańsk",
          "Malmö", "Aarhus", "İzmir", "Suzhou", "Pune", "Osaka", "Curitiba", "Monterrey",
          "Durban", "Calgary", "Graz", "Basel"]
STREETS = ["Hafenstraße", "Rue de la Paix", "Via Roma", "Calle Mayor", "High Street", "Main St",
           "Industrieweg", "Ul. Długa", "Storgatan", "Industrivej", "Atatürk Cd.", "Park Road"]
STANDARDS = ["ISO 9001:2015", "ISO 14001:2015", "ISO 45001:2018", "ISO/IEC 27001:2022",
             "ISO 50001:2018"]
STANDARD_WEIGHTS = [60, 18, 10, 8, 4]
SCOPES = ["Design and manufacture of {p}.", "Distribution and storage of {p}.",
          "Provision of {p} services.", "Installation and maintenance of {p}."]
STATUSES = ["Active", "Suspended", "Withdrawn", "Expired"]
STATUS_WEIGHTS = [90, 4, 3, 3]
CYCLE = datetime.timedelta(days=3 * 365)


def generate(path: Path, count: int, *, seed: int, prefix: str) -> None:
    from isocert.registry.certsearch import COLUMNS

    rnd = random.Random(seed)
    today = datetime.date.today()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        rows = []
        for i in range(1, count + 1):
            country = rnd.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
            name = " ".join(w for w in (rnd.choice(FIRST), rnd.choice(SECOND),
                                        rnd.choice(THIRD), rnd.choice(LEGAL[country])) if w)
            standards = rnd.choices(STANDARDS, STANDARD_WEIGHTS)
            if rnd.random() < 0.15:
                second = rnd.choices(STANDARDS, STANDARD_WEIGHTS)[0]
                if second != standards[0]:
                    standards.append(second)
            original = datetime.date(2010, 1, 1) + datetime.timedelta(days=rnd.randrange(5400))
            issue = original
            while issue + CYCLE < today and rnd.random() < 0.8:
                issue += CYCLE  # recertified
            expiry = issue + datetime.timedelta(days=3 * 365 - 1)
            sites = 1 if rnd.random() >= 0.10 else rnd.randint(2, 4)
            site_countries = [country] + [rnd.choice(COUNTRIES) for _ in range(sites - 1)]
            cities = [rnd.choice(CITIES) for _ in range(sites)]
            streets = [f"{rnd.choice(STREETS)} {rnd.randint(1, 250)}" for _ in range(sites)]
            product = rnd.choice(SECOND).lower()
            rows.append([
                f"{prefix}-ID-{i:08d}", f"{prefix}-{i:08d}",
                rnd.choices(STATUSES, STATUS_WEIGHTS)[0], "Management System",
                ";".join(standards),
                ";".join(str(c) for c in sorted(rnd.sample(range(1, 40), rnd.choice((1, 1, 2))))),
                rnd.choice(SCOPES).format(p=product),
                original.strftime("%Y%m%d"), issue.strftime("%Y%m%d"), expiry.strftime("%Y%m%d"),
                f"{prefix}E{i:08d}", name, f"{streets[0]}, {cities[0]}", country,
                f"REG{rnd.randrange(10**9):09d}" if rnd.random() < 0.5 else "",
                "|".join(f"{name} site {n + 1}" if sites > 1 else "" for n in range(sites))
                if sites > 1 else "",
                "|".join(streets), "|".join(cities), "",
                "|".join(f"{rnd.randrange(10000, 99999)}" for _ in range(sites)),
                "|".join(site_countries), "Y" if rnd.random() < 0.02 else "N",
            ])
            if len(rows) == 10000:
                writer.writerows(rows)
                rows = []
        writer.writerows(rows)


def _server_cpu_seconds(connection) -> float:
    """CPU time of this connection's PostgreSQL backend (0 elsewhere, or if unreadable)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--output", help="Keep the CSV here (default: a temporary file).")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--input", help="Import this file instead of generating one.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    prefix = f"B{random.SystemRandom().randrange(36**4):04X}"
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        if args.input:
            path = Path(args.input)
        else:
            path = Path(args.output) if args.output else Path(tmp) / "registry.csv"
            started = time.perf_counter()
            generate(path, args.certificates, seed=args.seed, prefix=prefix)
            generated = time.perf_counter() - started
            size = path.stat().st_size / 1e6
            print(f"generated {args.certificates:,} certificates ({size:,.0f} MB) "
                  f"in {generated:.1f} s -> {path}")
        if args.generate_only:
            return

        call_command("migrate", verbosity=0)
        from isocert.registry.services import create_import_from_path, run_import

        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        started = time.perf_counter()
        certificate_import = create_import_from_path(path=path, actor=None)
        stored = time.perf_counter() - started
        server = _server_cpu_seconds(connection)
        started, cpu = time.perf_counter(), time.process_time()
        certificate_import = run_import(import_id=certificate_import.pk)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        server = _server_cpu_seconds(connection) - server
        print(f"stored the file in {stored:.1f} s")
        print(f"import {certificate_import.status}: {certificate_import.imported_rows:,} "
              f"certificates in {took:.1f} s ({certificate_import.imported_rows / took:,.0f} rows/s)")
        # On a shared machine the wall clock includes waiting for the CPU; these don't.
        print(f"CPU: importer {cpu:.1f} s"
              + (f", PostgreSQL backend {server:.1f} s" if connection.vendor == "postgresql"
                 else " (SQLite works in the importer's process)"))
        if certificate_import.status != "done":
            for error in certificate_import.errors[:20]:
                print(f"  line {error['line']}: {error['field']}: {error['message']}")
            sys.exit(1)


if __name__ == "__main__":
    main()
