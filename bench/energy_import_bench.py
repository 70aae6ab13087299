"""Energy import benchmark: 100 meters of 15-minute interval data for three years.

    .venv/bin/python bench/energy_import_bench.py [--meters 100] [--years 3] [--profile]

Builds a throw-away test database (SQLite under a temporary directory unless
DATABASE_URL is set), creates one organization with ``--meters`` electricity meters and
writes the interval data as the monthly CSV files a metering portal exports (one line per
15 minutes, one column per meter: 100 meters × 96 intervals × 1,096 days ≈ 10.5 million
readings in 36 files of about 2 MB, within the import's per-file limits). The files are
generated first (not timed), then imported one after the other through the real service
(``services.import_energy_data``: read, detect the format, check every line, sum the
intervals into days, write), as a person uploading them would. Prints the wall clock and
CPU time of the imports. Target: ≤ 60 s on SQLite and on PostgreSQL.
"""

import argparse
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 60
STEP = datetime.timedelta(minutes=15)


def month_files(meters: int, start: datetime.date, months: int, seed: int = 11):
    """(file name, CSV bytes, intervals) per month: a timestamp and one column per meter."""
    rng = random.Random(seed)
    base = [rng.uniform(2, 40) for _ in range(meters)]
    header = "Timestamp," + ",".join(f"Meter {i + 1:03d} (kWh)" for i in range(meters))
    for offset in range(months):
        year, month = start.year + (start.month - 1 + offset) // 12, (start.month - 1 + offset) % 12 + 1
        first = datetime.datetime(year, month, 1)
        following = datetime.datetime(year + month // 12, month % 12 + 1, 1)
        lines, when = [header], first
        while when < following:
            load = 1.0 + 0.4 * (8 <= when.hour < 18)
            lines.append(f"{when:%Y-%m-%d %H:%M}," + ",".join(
                f"{b * load * rng.uniform(0.9, 1.1):.2f}" for b in base))
            when += STEP
        yield f"intervals-{year}-{month:02d}.csv", ("\n".join(lines) + "\n").encode(), len(lines) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one file")
    args = parser.parse_args()

    os.environ.setdefault("ISOCERT_VAR_DIR", tempfile.mkdtemp(prefix="isocert-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from isocert.accounts.models import User
        from isocert.accounts.services import create_organization
        from isocert.energy import services
        from isocert.energy.importer import ColumnChoice, MappingChoice
        from isocert.energy.models import Reading

        alice = User.objects.create_user("alice@bench.example", "x", full_name="Alice")
        organization = create_organization(actor=alice, legal_name="Bench Campus GmbH",
                                           country="DE", registered_address="Bremen",
                                           sector_codes=[17], scope_statement="Bench")
        meters = [services.create_meter(organization=organization, actor=alice,
                                        name=f"Meter {i + 1:03d}", carrier="electricity",
                                        unit="kWh") for i in range(args.meters)]
        # The format options are left out: the import reads them from each file.
        mapping = MappingChoice(date="Timestamp", columns=tuple(
            ColumnChoice(column=f"{m.name} (kWh)", meter_id=m.pk) for m in meters))

        began = time.perf_counter()
        files = list(month_files(args.meters, datetime.date(2023, 1, 1), 12 * args.years))
        generated_s = time.perf_counter() - began
        intervals = sum(n for _, _, n in files)
        size = sum(len(d) for _, d, _ in files)

        if args.profile:
            import cProfile
            import pstats

            name, data, _ = files.pop(0)
            profiler = cProfile.Profile()
            profiler.runcall(services.import_energy_data, organization=organization,
                             actor=alice, data=data, file_name=name, mapping=mapping)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

        cpu, began = time.process_time(), time.perf_counter()
        slowest = 0.0
        for name, data, _ in files:
            one = time.perf_counter()
            services.import_energy_data(organization=organization, actor=alice, data=data,
                                        file_name=name, mapping=mapping)
            slowest = max(slowest, time.perf_counter() - one)
        import_s = time.perf_counter() - began
        cpu_s = time.process_time() - cpu
        stored = Reading.objects.filter(meter__organization=organization).count()

        print(f"database: {connection.vendor}")
        print(f"generated {len(files)} files, {size / 1e6:.0f} MB, {intervals:,} lines × "
              f"{args.meters} meters = {intervals * args.meters:,} readings "
              f"in {generated_s:.1f} s (not timed)")
        print(f"import: {import_s:.1f} s wall, {cpu_s:.1f} s CPU of this process, slowest file "
              f"{slowest:.2f} s; {intervals * args.meters / import_s:,.0f} readings/s; "
              f"{stored:,} daily readings stored")
        print(f"target ≤ {TARGET_S} s — {'met' if import_s <= TARGET_S else 'NOT met'}")
        print("command: .venv/bin/python bench/energy_import_bench.py")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
