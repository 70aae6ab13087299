"""Page benchmark on a CB of realistic size (made by ``cb_generate.py``, same settings).

    ISOCERT_VAR_DIR=/tmp/var-cb .venv/bin/python bench/cb_pages.py [--runs 20]
    ISOCERT_VAR_DIR=/tmp/var-cb .venv/bin/python bench/cb_pages.py --only "work queue" --profile
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cb .venv/bin/python bench/cb_pages.py

Logs in as each role (client owner Alice, reviewer Rita, auditor Adam, decision maker Dora,
administrator Ada — staff sessions carry the second factor, as after the portal's log-in)
and times the most used pages and API list operations with Django's test client, in
process (no web server, DEBUG off): p50 and p95 of the server time over ``--runs``
requests after one warm-up (and the benchmark process's CPU time per request, which on a
shared machine excludes waiting for a core; with SQLite it includes the database's work,
with PostgreSQL not), the number of SQL queries and the response size. A page over
the target (p95 ≤ 150 ms, issue #19) or not answering 200 is marked.
"""

import argparse
import cProfile
import logging
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cb_generate import DOMAIN, setup_django  # noqa: E402

TARGET_MS = 150


def login(user):
    """A client logged in as ``user`` by password and, for staff, the second factor
    (what ``tests/factories.client_for`` does)."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.account.internal.flows.login import _AUTHENTICATION_METHODS_USER_SESSION_KEY
    from django.test import Client

    from isocert.accounts.second_factor import has_authenticator

    client = Client()
    if user is None:
        return client
    client.force_login(user)
    now = time.time()
    methods = [{"method": "password", "at": now, "email": user.email}]
    if has_authenticator(user):
        methods.append({"method": "mfa", "at": now, "type": "totp"})
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = methods
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return client


def pages():
    """(label, role, url) of the pages to time, with objects picked from the data."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.timezone import localdate

    from isocert.accounts.models import User
    from isocert.audits.models import Audit, CertificationCycle
    from isocert.certification.models import Certificate
    from isocert.core.models import AuditEvent
    from isocert.registration.models import Application

    users = {u.email.split("@")[0]: u for u in User.objects.filter(
        email__in=[f"{n}@{DOMAIN}" for n in ("alice", "rita", "adam", "dora", "ada")])}
    application = (Application.objects.filter(organization__memberships__user=users["alice"])
                   .order_by("pk").first())
    reviewed = Application.objects.exclude(status="draft").order_by("-pk").first()
    audit = (Audit.objects.filter(team__auditor=users["adam"], kind="stage2")
             .exclude(cycle__standards__code="ISO/IEC 27001").order_by("-pk").first())
    # The heaviest checklist: ISO/IEC 27001 with its Annex A controls.
    isms = (Audit.objects.filter(team__auditor=users["adam"], kind="stage2",
                                 cycle__standards__code="ISO/IEC 27001")
            .order_by("-pk").first())
    cycle = (CertificationCycle.objects.filter(decisions__isnull=True, audits__kind="stage2",
                                               audits__status="closed")
             .order_by("-pk").first())
    # An audit still to staff: its planning page judges every auditor for the finder.
    to_staff = (Audit.objects.filter(status="planned", kind="stage1")
                .exclude(team__role="lead").order_by("-pk").first())
    certificate = Certificate.objects.filter(cycle__isnull=False).order_by("-pk").first()
    events = AuditEvent.objects.count()
    # A day in the middle of the trail (cb_generate.py spreads the events over years).
    day = localdate(AuditEvent.objects.get(seq=max(1, events // 2)).created_at).isoformat()
    word = certificate.organization_name.split()[0]
    listed = [
        ("dashboard (client)", "alice", "/dashboard/"),
        ("dashboard (reviewer)", "rita", "/dashboard/"),
        ("dashboard (auditor)", "adam", "/dashboard/"),
        ("dashboard (decision maker)", "dora", "/dashboard/"),
        ("dashboard (administrator)", "ada", "/dashboard/"),
    ]
    try:
        listed.append(("work queue (reviewer)", "rita", reverse("work_queue")))
    except NoReverseMatch:
        print("note: no /work/ queue route on this branch; skipped")
    listed += [
        ("organization (client)", "alice", f"/organizations/{application.organization_id}/"),
        ("application (client)", "alice", f"/applications/{application.pk}/"),
        ("review queue", "rita", "/review/"),
        ("review detail", "rita", f"/review/{reviewed.pk}/"),
        ("audit list (auditor)", "adam", "/audits/"),
        ("audit list (reviewer)", "rita", "/audits/"),
        ("cycle detail", "rita", f"/cycles/{audit.cycle_id}/"),
        ("audit planning", "rita", f"/audits/{audit.pk}/planning/"),
        ("audit planning, to staff", "rita",
         f"/audits/{to_staff.pk}/planning/" if to_staff else None),
        ("audit conduct", "adam", f"/audits/{audit.pk}/conduct/"),
        ("audit conduct (ISO/IEC 27001)", "adam",
         f"/audits/{isms.pk}/conduct/" if isms else None),
        ("audit findings", "adam", f"/audits/{audit.pk}/findings/"),
        ("audit report", "adam", f"/audits/{audit.pk}/report/"),
        ("decision queue", "dora", "/cb/decisions/"),
        ("decision page", "dora", f"/cb/cycles/{cycle.pk}/decision/" if cycle else None),
        ("certificate list", "dora", "/certificates/"),
        ("certificate detail", "dora", f"/certificates/{certificate.pk}/"),
        ("registry (CB)", "ada", "/cb/registry/"),
        ("directory search", None, f"/directory/?q={word}"),
        ("verify certificate", None, f"/verify/{certificate.number}"),
        ("complaints (CB)", "ada", "/cb/complaints/"),
        ("audit trail, page 1", "ada", "/cb/audit-trail/"),
        ("audit trail, deep page", "ada", f"/cb/audit-trail/?page={max(1, events // 100)}"),
        ("audit trail, by actor", "ada", "/cb/audit-trail/?actor=adam%40"),
        ("audit trail, by day", "ada", f"/cb/audit-trail/?date_from={day}&date_to={day}"),
        ("API applications", "rita", "/api/v1/applications"),
        ("API cycles", "rita", "/api/v1/cycles"),
        ("API audits", "rita", "/api/v1/audits"),
        ("API audit findings", "adam", f"/api/v1/audits/{audit.pk}/findings"),
        ("API certificates", "dora", "/api/v1/certificates"),
        ("API audit events", "ada", "/api/v1/audit-events"),
    ]
    return users, [item for item in listed if item[2]]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="Time only pages whose label has this.")
    parser.add_argument("--profile", action="store_true",
                        help="Print where the time of the timed runs goes (cProfile, the 30 "
                             "functions with the most cumulative time) after each page.")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="Leave the garbage collector as a process without the server "
                             "entry points has it (to compare with the freeze).")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if not args.no_gc_freeze:
        # As the server entry points do (isocert.wsgi, isocert.asgi; core/gcfreeze.py).
        from isocert.core.gcfreeze import install as install_gc_freeze

        install_gc_freeze()
    logging.getLogger("isocert.request").setLevel(logging.WARNING)  # one line per request
    # As the tests do: plain static storage, so no collectstatic manifest is needed.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    users, listed = pages()
    clients = {}
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"{args.runs} runs per page after a warm-up; target p95 <= {TARGET_MS} ms; "
          f"GC freeze {'off' if args.no_gc_freeze else 'on'}\n")
    print("| page | role | p50 ms | p95 ms | CPU p50 ms | queries | KB | |\n"
          "|---|---|--:|--:|--:|--:|--:|---|")
    over = 0
    for label, role, url in listed:
        if args.only and args.only not in label:
            continue
        client = clients.get(role) or clients.setdefault(role, login(users.get(role)))
        response = client.get(url)  # warm-up
        queries = []

        def count(execute, sql, *rest, queries=queries):
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            response = client.get(url)
        times, cpu = [], []
        profiler = cProfile.Profile() if args.profile else None
        for _ in range(args.runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler:
                profiler.runcall(client.get, url)
            else:
                client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        flags = []
        if response.status_code != 200:
            flags.append(f"HTTP {response.status_code}")
        if p95 > TARGET_MS:
            flags.append("OVER")
            over += 1
        print(f"| {label} `{url}` | {role or 'visitor'} | {p50:.0f} | {p95:.0f} | "
              f"{statistics.median(cpu):.0f} | {len(queries)} | {len(response.content) / 1024:.0f} | {' '.join(flags)} |")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(f"\n{over} page(s) over the target")


if __name__ == "__main__":
    main()
