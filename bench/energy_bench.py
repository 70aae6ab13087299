"""Energy performance benchmark: import, fit, the analysis page and the change-point search on
three years of daily data.

    .venv/bin/python bench/energy_bench.py [--runs 9]

Builds a throw-away test database (SQLite under a temporary directory unless
DATABASE_URL is set), writes ~1,100 daily lines (electricity and gas meters, production,
heating and cooling degree days), imports them through the real importer, fits a
two-year baseline, adds the third year as the reporting period, then renders the
analysis page through the Django test client several times and prints the median
server time (target: below 300 ms; issue #18 allows 500 ms). Then times the change-point
search (``mv.assess_baseline(model="auto")``: 3P, 4P, 5P and mean over the balance-point
grid) on three years of daily temperatures and consumption (target: at most 1 s).
"""

import argparse
import datetime
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
CHANGE_POINT_TARGET_MS = 1000


def daily_csv(start: datetime.date, days: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["Date,Electricity (kWh),Natural gas (m³),Production (t),HDD (K·d),CDD (K·d)"]
    for i in range(days):
        day = start + datetime.timedelta(days=i)
        season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
        production = max(0.0, 30 + 8 * (day.weekday() < 5) + rng.uniform(-5, 5))
        hdd = max(0.0, 10 * season + rng.uniform(-3, 3))
        cdd = max(0.0, -6 * season + rng.uniform(-2, 2))
        factor = 0.93 if i >= 730 else 1.0
        electricity = (1200 + 95 * production + 60 * cdd + rng.uniform(-150, 150)) * factor
        gas_kwh = (400 + 180 * hdd + rng.uniform(-100, 100)) * factor
        lines.append(f"{day.isoformat()},{electricity:.1f},{gas_kwh / 10:.2f},"
                     f"{production:.2f},{hdd:.2f},{cdd:.2f}")
    return "\n".join(lines) + "\n"


def change_point_series(days: int = 1096, seed: int = 11):
    """Three years of daily mean temperatures and a 5P-shaped consumption with noise."""
    import numpy as np

    from isocert.energy import mv

    rng = np.random.default_rng(seed)
    t = 11 + 11 * np.sin(np.arange(days) * 2 * np.pi / 365.25 - 1.8) + rng.normal(0, 3, days)
    energy = 2000 + 90 * np.maximum(14 - t, 0) + 120 * np.maximum(t - 21, 0) \
        + rng.normal(0, 60, days)
    start = datetime.date(2023, 1, 1)
    periods = [(start + datetime.timedelta(days=i),) * 2 for i in range(days)]
    return mv.Series(periods=periods, energy=list(energy), temperature=list(t))


def time_change_point_search(runs: int) -> tuple[float, list[float], object]:
    from isocert.energy import mv

    series = change_point_series()
    mv.assess_baseline(series, model="auto")      # warm-up: imports, BLAS start
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        assessment = mv.assess_baseline(series, model="auto")
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), timings, assessment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="page renders to time")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one render")
    args = parser.parse_args()

    os.environ.setdefault("ISOCERT_VAR_DIR", tempfile.mkdtemp(prefix="isocert-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # As in the tests: static files served from the app directories, no collected manifest.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from isocert.accounts.models import User
        from isocert.accounts.services import add_site, create_organization
        from isocert.energy import services
        from isocert.energy.importer import MappingChoice
        from isocert.energy.models import RelevantVariable

        alice = User.objects.create_user("alice@bench.example", "x", full_name="Alice")
        organization = create_organization(actor=alice, legal_name="Bench Aluminium GmbH",
                                           country="DE", registered_address="Bremen",
                                           sector_codes=[17], scope_statement="Bench")
        add_site(organization=organization, actor=alice, name="Plant", address="Bremen",
                 effective_personnel=50, shifts=2)
        electricity = services.create_meter(
            organization=organization, actor=alice,
            name="Electricity", carrier="electricity", unit="kWh")
        gas = services.create_meter(
            organization=organization, actor=alice,
            name="Natural gas", carrier="natural-gas", unit="m³")
        variables = [services.create_variable(
            organization=organization, actor=alice,
            name=name, kind=kind, unit=unit) for name, kind, unit in (
            ("Production", "production", "t"), ("HDD", "hdd", "K·d"), ("CDD", "cdd", "K·d"))]
        start, days = datetime.date(2023, 1, 1), 1096
        data = daily_csv(start, days).encode()
        mapping = {"frequency": "daily", "date": "Date", "columns": [
            {"column": "Electricity (kWh)", "meter_id": electricity.pk},
            {"column": "Natural gas (m³)", "meter_id": gas.pk},
            {"column": "Production (t)", "variable_id": variables[0].pk},
            {"column": "HDD (K·d)", "variable_id": variables[1].pk},
            {"column": "CDD (K·d)", "variable_id": variables[2].pk}]}

        began = time.perf_counter()
        batch = services.import_energy_data(organization=organization, actor=alice, data=data,
                                            file_name="daily.csv",
                                            mapping=MappingChoice.from_json(mapping))
        import_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        baseline = services.create_baseline(
            organization=organization, actor=alice,
            name="EnB 2023-2024", period_start=start,
            period_end=start + datetime.timedelta(days=729),
            variable_ids=[v.pk for v in RelevantVariable.objects.filter(
                organization=organization).order_by("pk")])
        fit_ms = (time.perf_counter() - began) * 1000
        period = services.add_reporting_period(
            baseline=baseline, actor=alice,
            name="2025", period_start=start + datetime.timedelta(days=730),
            period_end=start + datetime.timedelta(days=days - 1))

        client = Client()
        client.force_login(alice)
        url = f"/energy/reporting-periods/{period.pk}/"
        client.get(url)  # warm-up: template loading, first queries
        timings = []
        for _ in range(args.runs):
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
        median = statistics.median(timings)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(client.get, url)
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
        print(f"database: {connection.vendor}")
        print(f"import: {batch.rows} lines, {batch.values} values in {import_ms:.0f} ms")
        print(f"baseline fit: {baseline.result['n']} points, 3 variables, "
              f"R² {baseline.result['r2']:.3f} in {fit_ms:.0f} ms")
        print(f"analysis page: median {median:.0f} ms over {args.runs} runs "
              f"(min {min(timings):.0f}, max {max(timings):.0f}); target < {TARGET_MS} ms — "
              f"{'met' if median < TARGET_MS else 'NOT met'}")
        cp_median, cp_timings, assessment = time_change_point_search(args.runs)
        model = assessment.model
        print(f"change-point search: {model.n} daily points, "
              f"chose {model.form} (balance points {model.balance_points}); median "
              f"{cp_median:.0f} ms over {args.runs} runs (min {min(cp_timings):.0f}, max "
              f"{max(cp_timings):.0f}); target ≤ {CHANGE_POINT_TARGET_MS} ms — "
              f"{'met' if cp_median <= CHANGE_POINT_TARGET_MS else 'NOT met'}")
        print("command: .venv/bin/python bench/energy_bench.py")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
