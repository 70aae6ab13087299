"""Load-test the public registry: verification API, verification page, directory search.

    DATABASE_URL=... python bench/registry_load.py [--duration 10] [--connections 16]
        [--create 20000] [--workers N] [--threads N]

The database must already hold a registry (``bench/registry_generate.py`` imports
1,000,000 certificates through the real importer); ``--create N`` instead migrates and
inserts N certificates with ``tests/registry_helpers.py`` when the registry is empty (for
trying the script on a small registry).

The portal is served by granian (as ``make run`` serves it) on 127.0.0.1 with one worker
per core, production-like
settings (DEBUG off, ALLOWED_HOSTS=127.0.0.1, collected static files) and a rate limit
too high to bite (``PUBLIC_API_RATE``). wrk (Debian package ``wrk``; installed with
apt-get when missing and running as root, otherwise the script says how) then loads each
scenario for ``--duration`` seconds at ``--connections`` connections, every request a
random existing number or a random name with a typo:

* ``api``       GET /api/v1/public/certificates/{number} (``isocert.wsgi``: the front door)
* ``page``      GET /verify/{number}
* ``directory`` GET /api/v1/public/certificates?q={name with a typo}
* ``bare``      the ``api`` scenario against ``bench/bare_wsgi.py`` (plain WSGI, same
                queries, same server settings): the floor the portal is compared with.

Prints requests per second, p50/p95/p99 latency and non-2xx answers per scenario, the
portal's share of the bare app's throughput, and the targets (API ≥ 2,500 req/s with p99 ≤
25 ms; directory p95 ≤ 100 ms). Only 127.0.0.1 is contacted; every run is bounded in time.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

WRK_SCRIPT = r"""
local paths = {}
local n = 0
for line in io.lines("%(paths)s") do n = n + 1; paths[n] = line end
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", paths[math.random(1, n)])
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "non_2xx": %%d, "socket_errors": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (apt-get install wrk) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                       stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("wrk is needed: `apt-get install wrk` (Debian/Ubuntu) or build it from its "
             "sources; a Python load generator cannot produce thousands of requests per "
             "second on two cores.")


def server_env(args, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": args.database_url, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1", "PUBLIC_API_RATE": "1000000000/s",
        "ISOCERT_VAR_DIR": str(var_dir), "STATIC_ROOT": str(var_dir / "static"),
        "LOG_LEVEL": "ERROR", "DB_CONN_MAX_AGE": "600",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    })
    return env


def django_setup(args, var_dir: Path):
    os.environ.update(server_env(args, var_dir))
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "isocert.settings"
    import django

    django.setup()


def prepare(args, var_dir: Path) -> tuple[list[str], list[str]]:
    """Collect static files, optionally create a registry; sample numbers and names."""
    django_setup(args, var_dir)
    from django.core.management import call_command
    from django.db import connection

    if args.create:
        call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from isocert.certification.models import Certificate

    total = Certificate.objects.count()
    if args.create and total == 0:
        from registry_helpers import bulk_certificates

        started = time.monotonic()
        bulk_certificates(args.create)
        total = Certificate.objects.count()
        print(f"Created {total} certificates in {time.monotonic() - started:.1f} s")
    if total == 0:
        sys.exit("The database holds no certificates: run bench/registry_generate.py first "
                 "(or pass --create N).")
    rng = random.Random(args.seed)
    # Random ids (not ORDER BY random(), which would sort the whole table).
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM certification_certificate")
        low, high = cursor.fetchone()
    wanted = [rng.randint(low, high) for _ in range(args.sample * 2)]
    rows = list(Certificate.objects.filter(pk__in=wanted)
                .values_list("number", "organization_name", "confidential")[:args.sample])
    numbers = [number for number, _, _ in rows]
    names = [typo(name, rng) for _, name, confidential in rows if not confidential]
    connection.close()
    print(f"Registry: {total} certificates; sampled {len(numbers)} numbers, "
          f"{len(names)} names (with typos)")
    return numbers, names


def typo(name: str, rng: random.Random) -> str:
    """The first one or two words of ``name`` with one letter dropped, doubled or swapped."""
    words = name.split()[:rng.choice([1, 2])]
    text = " ".join(words)
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 5:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def start_server(app: str, port: int, args, env: dict, log: Path) -> subprocess.Popen:
    command = [str(Path(PYTHON).with_name("granian")), "--interface", "wsgi",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
               "--blocking-threads", str(args.threads), "--backlog", "2048", "--no-ws",
               "--log-level", "warning", app]
    return subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The server stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            sys.exit(f"{url} answered {exc.code}:\n{exc.read()[:1000]!r}\n"
                     f"{log.read_text()[-3000:]}")
        except OSError:
            time.sleep(0.3)
    sys.exit(f"The server did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_wrk(wrk: str, port: int, paths: list[str], args, work: Path, name: str,
            duration: float) -> dict:
    paths_file = work / f"{name}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    script = work / f"{name}.lua"
    script.write_text(WRK_SCRIPT % {"paths": paths_file, "seed": args.seed})
    result = subprocess.run(
        [wrk, "-t", str(args.threads_wrk), "-c", str(args.connections),
         "-d", f"{duration:g}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=duration + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("RESULT "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each "
                        "(each worker's first requests load the URLconf and templates)")
    parser.add_argument("--connections", type=int, default=16)
    # One per core: wrk shares the cores, and more workers only add switching (measured:
    # 2 workers served 45 % more than 4 on two cores).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per server worker running the application")
    parser.add_argument("--threads-wrk", type=int, default=2)
    parser.add_argument("--sample", type=int, default=5_000, help="numbers/names to draw")
    parser.add_argument("--create", type=int, default=0, metavar="N",
                        help="migrate and insert N certificates if the registry is empty")
    parser.add_argument("--scenarios", default="api,page,directory,bare")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("Give --database-url or set DATABASE_URL.")
    if args.duration > 300:
        sys.exit("--duration is at most 300 seconds.")
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="registry-load-"))
    var_dir = work / "var"
    var_dir.mkdir()
    numbers, names = prepare(args, var_dir)
    env = server_env(args, var_dir)
    scenarios = {
        "api": ("isocert.wsgi:application", args.port,
                ["/api/v1/public/certificates/" + quote(n, safe="") for n in numbers]),
        "page": ("isocert.wsgi:application", args.port,
                 ["/verify/" + quote(n, safe="") for n in numbers]),
        "directory": ("isocert.wsgi:application", args.port,
                      ["/api/v1/public/certificates?q=" + quote(n) for n in names]),
        "bare": ("bench.bare_wsgi:application", args.port + 1,
                 ["/api/v1/public/certificates/" + quote(n, safe="") for n in numbers]),
    }
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    print(f"granian: {args.workers} workers ({args.threads} thread(s) each); "
          f"wrk: {args.threads_wrk} threads, {args.connections} connections, "
          f"{args.duration:g} s per scenario", flush=True)
    results, servers = {}, {}
    try:
        for name in wanted:
            app, port, paths = scenarios[name]
            if app not in servers:
                for other in servers.values():
                    stop(other)
                servers.clear()
                log = work / f"server-{port}.log"
                servers[app] = start_server(app, port, args, env, log)
                wait_ready(f"http://127.0.0.1:{port}{scenarios['api'][2][0]}", servers[app], log)
            if args.warmup:
                run_wrk(wrk, port, paths, args, work, name + "-warmup", args.warmup)
            results[name] = run_wrk(wrk, port, paths, args, work, name, args.duration)
            r = results[name]
            print(f"  {name:<10} {r['rps']:>8.0f} req/s  p50 {r['p50_us'] / 1000:6.2f} ms  "
                  f"p95 {r['p95_us'] / 1000:6.2f} ms  p99 {r['p99_us'] / 1000:6.2f} ms  "
                  f"non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}", flush=True)
    finally:
        for process in servers.values():
            stop(process)
    print()
    print(f"{'scenario':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:<10} {r['rps']:>8.0f} {r['p50_us'] / 1000:>8.2f} "
              f"{r['p95_us'] / 1000:>8.2f} {r['p99_us'] / 1000:>8.2f} {r['non_2xx']:>8}")
    if "api" in results and "bare" in results:
        print(f"\nportal API / bare WSGI throughput: "
              f"{results['api']['rps'] / results['bare']['rps']:.2f}")
    if "api" in results:
        api = results["api"]
        ok = api["rps"] >= 2500 and api["p99_us"] <= 25_000
        print(f"target API ≥ 2,500 req/s, p99 ≤ 25 ms: {'met' if ok else 'NOT met'}")
    if "directory" in results:
        ok = results["directory"]["p95_us"] <= 100_000
        print(f"target directory p95 ≤ 100 ms: {'met' if ok else 'NOT met'}")
    if any(r["non_2xx"] or r["socket_errors"] for r in results.values()):
        print("Some requests failed (see non-2xx / socket errors above).")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
