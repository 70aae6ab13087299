"""Concurrent users on a CB of realistic size (made by ``cb_generate.py``, same settings).

    ISOCERT_VAR_DIR=/tmp/var-cb .venv/bin/python bench/cb_load.py [--users 1,2,4,8]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cb ISOCERT_VAR_DIR=/tmp/var-cb-pg \\
        .venv/bin/python bench/cb_load.py --duration 60

``cb_pages.py`` times one request at a time in process; this serves the portal as
``make run`` does — granian on 127.0.0.1, one worker per core (``--workers``), one thread
each, DEBUG off, collected static files — and lets ``--users`` people work at once, each
without pause: a user takes one of ``cb_pages.py``'s pages at random (every page equally
often) and requests it with the session of its role (staff sessions carry the second
factor), reads the answer, and takes the next. Each level of ``--users`` runs
``--warmup`` seconds not counted, then ``--duration`` seconds counted.

Prints per level the pages served per second, p50/p95/p99 of the response time as a user
waits for it, and the answers other than 200; then, for the last level, p50/p95 per page.
With N users on W workers a request waits for about (N − W) / W others, so the response
time grows with the users once they outnumber the cores; the pages per second show what
the machine serves. Only 127.0.0.1 is contacted; every run is bounded in time.
"""

import argparse
import http.client
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cb_generate import setup_django  # noqa: E402
from cb_pages import TARGET_MS, login, pages, percentile  # noqa: E402
from registry_load import server_env, start_server, stop, wait_ready  # noqa: E402


def sessions(users: dict, listed: list) -> dict:
    """The session cookie of each role that a listed page is requested as."""
    from django.conf import settings

    name = settings.SESSION_COOKIE_NAME
    cookies = {None: ""}
    for role in {role for _, role, _ in listed if role}:
        cookies[role] = f"{name}={login(users[role]).cookies[name].value}"
    return cookies


def user_loop(port: int, work: list, cookies: dict, seed: int, until: float,
              results: list) -> None:
    """One user: requests random pages back to back until ``until`` (monotonic)."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        label, role, url = rng.choice(work)
        headers = {"Cookie": cookies[role]} if cookies[role] else {}
        started = time.perf_counter()
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        results.append((label, (time.perf_counter() - started) * 1000, status))
    connection.close()


def run_level(port: int, work: list, cookies: dict, users: int, seconds: float,
              seed: int) -> tuple[list, float]:
    results: list = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=user_loop, args=(port, work, cookies, seed + n, until,
                                                        results)) for n in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="1,2,4,8",
                        help="comma-separated numbers of users working at once")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per level")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before each level")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",") if n.strip()]
    if args.duration > 300 or args.warmup > 300 or not levels or max(levels) > 64:
        sys.exit("--duration and --warmup are at most 300 seconds, --users at most 64.")
    work = Path(tempfile.mkdtemp(prefix="cb-load-"))
    os.environ["STATIC_ROOT"] = str(work / "static")
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    var = Path(os.environ["ISOCERT_VAR_DIR"])
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var / 'isocert.sqlite3'}"
    call_command("collectstatic", interactive=False, verbosity=0)
    users, listed = pages()
    # As a browser sends them (the directory search's word may not be ASCII).
    listed = [(label, role, quote(url, safe="/?&=%:+")) for label, role, url in listed]
    cookies = sessions(users, listed)
    vendor = connection.vendor
    connection.close()
    options = argparse.Namespace(database_url=database_url, workers=args.workers, threads=1)
    env = server_env(options, var)
    env.update({"STATIC_ROOT": os.environ["STATIC_ROOT"], "SECRET_KEY": settings.SECRET_KEY,
                "CERTIFICATE_SIGNING_KEY_FILE": os.environ["CERTIFICATE_SIGNING_KEY_FILE"],
                "EMAIL_BACKEND": os.environ["EMAIL_BACKEND"]})
    log = work / "server.log"
    server = start_server("isocert.wsgi:application", args.port, options, env, log)
    print(f"database: {vendor}; granian: {args.workers} workers, 1 thread each; "
          f"{len(listed)} pages; {args.warmup:g} s warm-up + {args.duration:g} s per level\n")
    print("| users | pages/s | p50 ms | p95 ms | p99 ms | not 200 |\n|--:|--:|--:|--:|--:|--:|")
    failed = 0
    try:
        wait_ready(f"http://127.0.0.1:{args.port}/", server, log)
        for users_now in levels:
            if args.warmup:
                run_level(args.port, listed, cookies, users_now, args.warmup, args.seed)
            results, elapsed = run_level(args.port, listed, cookies, users_now, args.duration,
                                         args.seed + 1000)
            times = [ms for _, ms, _ in results]
            bad = sum(1 for *_, status in results if status != 200)
            failed += bad
            print(f"| {users_now} | {len(results) / elapsed:.1f} | {statistics.median(times):.0f} "
                  f"| {percentile(times, 0.95):.0f} | {percentile(times, 0.99):.0f} | {bad} |",
                  flush=True)
    finally:
        stop(server)
    by_page = defaultdict(list)
    statuses = defaultdict(set)
    for label, ms, status in results:
        by_page[label].append(ms)
        statuses[label].add(status)
    print(f"\nPer page at {levels[-1]} user(s) (p95 over {TARGET_MS} ms marked):\n\n"
          "| page | requests | p50 ms | p95 ms | |\n|---|--:|--:|--:|---|")
    for label, _role, _url in listed:
        times = by_page.get(label)
        if not times:
            continue
        p95 = percentile(times, 0.95)
        flags = [f"HTTP {s}" for s in sorted(map(str, statuses[label])) if s != "200"]
        if p95 > TARGET_MS:
            flags.append("over")
        print(f"| {label} | {len(times)} | {statistics.median(times):.0f} | {p95:.0f} | "
              f"{' '.join(flags)} |")
    if failed:
        print(f"\n{failed} answer(s) other than 200: see {log}")
        sys.exit(1)


if __name__ == "__main__":
    main()
