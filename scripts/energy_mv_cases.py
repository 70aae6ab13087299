"""The verdict of the M&V analysis on the cases of issue #18, on synthetic daily data.

    .venv/bin/python scripts/energy_mv_cases.py [--write DIR]

One site, 2016 as the baseline and 2017 as the reporting period, 8 % less consumption in
2017: E = 900 + 40·HDD + 55·CDD (degree days at 18 °C) + noise. Prints the verdict and
its reasons for a full-year baseline, a 12-day baseline (January 2016, on HDD alone), a
reporting period holding half of its days, and a one-month reporting period. ``--write DIR`` also writes each case's
input as JSON for ``isocert energy-analyse --json FILE``.
"""

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def year(start: datetime.date, days: int, rng, factor: float) -> dict:
    t = 11 + 10 * np.sin((np.arange(days) + start.timetuple().tm_yday) * 2 * np.pi / 365.25
                         - 1.9) + rng.normal(0, 3, days)
    hdd, cdd = np.maximum(18 - t, 0), np.maximum(t - 18, 0)
    energy = factor * (900 + 40 * hdd + 55 * cdd) + rng.normal(0, 60, days)
    return {"periods": [(start + datetime.timedelta(days=i)).isoformat() for i in range(days)],
            "energy": [round(v, 1) for v in energy],
            "variables": {"hdd": [round(v, 2) for v in hdd], "cdd": [round(v, 2) for v in cdd]}}


def subset(series: dict, keep, variables=("hdd", "cdd")) -> dict:
    keep = list(keep)
    return {"periods": [series["periods"][i] for i in keep],
            "energy": [series["energy"][i] for i in keep],
            "variables": {k: [series["variables"][k][i] for i in keep] for k in variables}}


def cases() -> dict[str, dict]:
    rng = np.random.default_rng(18)
    baseline = year(datetime.date(2016, 1, 1), 366, rng, 1.0)
    reporting = year(datetime.date(2017, 1, 1), 365, rng, 0.92)
    first_and_last_quarter = [i for i in range(365) if i < 90 or i >= 273]
    return {
        "full year": {"baseline": baseline, "reporting": reporting},
        # January has no cooling degree days: the analysis would refuse a constant "cdd".
        "12-day baseline": {"baseline": subset(baseline, range(12), ["hdd"]),
                            "reporting": subset(reporting, range(365), ["hdd"])},
        "half-covered reporting period": {
            "baseline": baseline, "reporting": subset(reporting, first_and_last_quarter)},
        "one-month reporting period": {"baseline": baseline,
                                       "reporting": subset(reporting, range(31))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="DIR", help="write each case's input JSON here")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocert.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from isocert.energy import mv

    for name, data in cases().items():
        if args.write:
            path = Path(args.write) / (name.replace(" ", "-") + ".json")
            path.write_text(json.dumps(data))
        out = mv.analyse_json(data)
        m, r, v = out["model"], out["reporting"], out["verdict"]
        fsu = "—" if r["fsu"] is None else f"{r['fsu']:.3f}"
        fraction = "—" if r["savings_fraction"] is None else f"{r['savings_fraction']:.1%}"
        print(f"{name}: improvement demonstrated = {v['improvement_demonstrated']}")
        print(f"  baseline n={m['n']} ({m['form']}: {', '.join(m['variables']) or '-'}), "
              f"CV(RMSE) {m['cv_rmse']:.1%}, R² {m['r2']:.3f}, ρ {m['autocorrelation_lag1']:.2f}"
              f", n′ {m['effective_n']:.0f}")
        print(f"  reporting n={r['n']}, coverage {r['coverage']:.1%}, savings {fraction} of "
              f"{r['expected']:,.0f} kWh expected, fsu {fsu} at {r['confidence']:.0%}")
        for reason in v["reasons"]:
            print(f"  - {reason}")


if __name__ == "__main__":
    main()
