"""``benchmark pages``: every list page and API list, as each role, at scale — p50/p95 per URL against its SQL.

1. The world: ``--seeded NAME`` runs on a database ``manage.py seed_scale`` filled and kept (on the server of
   --database-url / DATABASE_URL), untouched but for the sign-in sessions and TOTP devices of the four people;
   without it, the run's own fresh database is seeded first with ``--transits`` (``benchmarks.seed``).
2. Sign in as each role — the forwarder with the most transits, the checker of the bank with the most
   guarantees, Togo's customs officer (every corridor leaves from Lomé: who sees most) and the secretariat —
   with a session that has passed MFA (a TOTP device enrolled, and the session records allauth writes when the
   password and then the code were typed).
3. For each role, each URL of ``URLS`` the role may open (a 403 is reported and left out): the first page, a
   far page, and the filters (search ``q=``, office, corridor, a date range, overdue, status), through Django's
   test client in this process (one client, no network), ``--warmup`` times untimed (warm caches), then
   ``--repeat`` times timed: p50 and p95 per URL.
4. The raw-SQL baseline of each URL: the very statements the page sent (captured once), replayed on a psycopg 3
   connection of their own ``--repeat`` times; ``ratio`` is the page's p50 over that SQL's p50 (how much of the
   time is Python: views, forms, templates), ``queries`` how many statements the page sends.

A page over ``--aim-ms`` (150 ms) at p95 is listed in ``over_aim``. The machine may be shared: ``host`` gives its
load before and after.
"""

from __future__ import annotations

import datetime
import re
import time
from urllib.parse import urlencode

from benchmarks.common import BenchmarkError, host_load, percentile

HELP = "Every list page and API list as each role (p50/p95 per URL) against the same SQL in psycopg."

AIM_MS = 150

# (label, URL name or path, query) per role; {office}, {corridor}, {q_ref}, {q_grn}, {after}, {before},
# {guarantee}, {bank} are filled from the seeded data. Every role tries every URL: a 403 is reported apart.
URLS = [
    ("home", "/", {}),
    ("guarantees", "/guarantees/", {}),
    ("guarantees p50", "/guarantees/", {"page": 50}),
    ("guarantees q=grn", "/guarantees/", {"q": "{q_grn}"}),
    ("guarantees status", "/guarantees/", {"status": "active"}),
    ("guarantee detail (most holds)", "/guarantees/{guarantee}/", {}),
    ("guarantee detail holds p10", "/guarantees/{guarantee}/", {"holds_page": 10, "entries_page": 10}),
    ("transits", "/transits/", {}),
    ("transits p50", "/transits/", {"page": 50}),
    ("transits q=ref", "/transits/", {"q": "{q_ref}"}),
    ("transits q=grn", "/transits/", {"q": "{q_grn}"}),
    ("transits office", "/transits/", {"office": "{office}"}),
    ("transits corridor", "/transits/", {"corridor": "{corridor}"}),
    ("transits dates", "/transits/", {"declared_after": "{after}", "declared_before": "{before}"}),
    ("transits overdue", "/transits/", {"overdue": "on"}),
    ("transits status", "/transits/", {"status": "in_transit"}),
    ("enquiries", "/enquiries/", {}),
    ("enquiries open", "/enquiries/", {"status": "open"}),
    ("claims", "/claims/", {}),
    ("notifications", "/notifications/", {}),
    ("bank queue", "/bank/queue/", {}),
    ("bank portfolio", "/bank/portfolio/", {}),
    ("bank portfolio q", "/bank/portfolio/", {"q": "{q_grn}"}),
    ("customs queue", "/customs/queue/", {}),
    ("refused events", "/events/refused/", {}),
    ("banks", "/secretariat/banks/", {}),
    ("bank detail", "/secretariat/banks/{bank}/", {}),
    ("api keys", "/secretariat/api-keys/", {}),
    ("failed tasks", "/secretariat/failed-tasks/", {}),
    ("ledger checkpoints", "/secretariat/ledger/", {}),
    ("discharge files", "/discharges/", {}),
    ("reconciliations", "/reconciliations/", {}),
    ("api transits", "/api/v1/transits", {}),
    ("api transits p50", "/api/v1/transits", {"page": 50}),
    ("api transits office", "/api/v1/transits", {"office": "{office}"}),
    ("api transits corridor", "/api/v1/transits", {"corridor": "{corridor}"}),
    ("api transits dates", "/api/v1/transits", {"declared_after": "{after}T00:00:00Z",
                                                 "declared_before": "{before}T00:00:00Z"}),
    ("api transits overdue", "/api/v1/transits", {"overdue": "true"}),
    ("api transits guarantee", "/api/v1/transits", {"guarantee": "{grn}"}),
    ("api guarantees", "/api/v1/guarantees", {}),
    ("api guarantees status", "/api/v1/guarantees", {"status": "active"}),
    ("reports", "/reports/", {}),
]
# The report pages (reporting/pages.py): each as it opens (the last 12 months) and over the longest period the
# filter allows (36 months). A page that is not for the role's kind of organisation answers 404 (left out).
REPORT_SLUGS = ["bank-exposure", "bank-claims", "customs-duties", "customs-open", "customs-release-times",
                "customs-cases", "forwarder", "system"]
URLS += [entry for slug in REPORT_SLUGS for entry in (
    (f"report {slug}", f"/reports/{slug}/", {}),
    (f"report {slug} 36 months", f"/reports/{slug}/", {"start": "{month_first}", "end": "{month_last}"}),
)]


def add_arguments(parser) -> None:
    parser.add_argument("--seeded", metavar="NAME",
                        help="Run on this database, filled by 'manage.py seed_scale' and kept (on the server of "
                             "--database-url / DATABASE_URL); it is neither migrated nor dropped.")
    parser.add_argument("--transits", type=int, default=20000,
                        help="Without --seeded: transits to seed in the run's own database (default 20000).")
    parser.add_argument("--guarantees", type=int, default=None, help="Without --seeded: guarantees to seed.")
    parser.add_argument("--repeat", type=int, default=20, help="Timed requests per URL (default 20).")
    parser.add_argument("--warmup", type=int, default=2, help="Untimed requests per URL first (default 2).")
    parser.add_argument("--role", action="append", default=None,
                        help="Only this role (forwarder, bank_checker, customs_TG, secretariat); repeatable.")
    parser.add_argument("--only", default=None, help="Only the URLs whose label contains this text.")
    parser.add_argument("--aim-ms", type=float, default=AIM_MS, help=f"p95 aim per page (default {AIM_MS}).")


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def _signed_in_client(user):
    """Django's test client with a session for ``user`` that has passed MFA, as allauth leaves it."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.http import HttpRequest
    from django.test import Client

    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        totp = TOTP.activate(user, generate_totp_secret()).instance
    client = Client()
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    record_authentication(request, user, "password", email=user.email)
    record_authentication(request, user, "mfa", id=totp.pk, type=totp.type)
    request.session.save()
    return client


def _places(log) -> dict:
    """The values the URLs are filled with, read from the seeded data."""
    from django.db.models import Count

    from guarantees.models import Bank, Guarantee, Transit

    newest = Transit.objects.order_by("-declared_at", "-pk").values_list("declaration_ref", "declared_at").first()
    if newest is None:
        raise BenchmarkError("The database holds no transit: seed it first (manage.py seed_scale).")
    biggest = (Guarantee.objects.annotate(n=Count("holds")).order_by("-n").values_list("pk", "grn", "n").first())
    bank = Bank.objects.order_by("pk").values_list("pk", flat=True).first()
    before = newest[1].date()
    today = datetime.date.today()
    after = before - datetime.timedelta(days=30)
    ref = newest[0]
    log(f"pages: biggest guarantee #{biggest[0]} has {biggest[2]} holds")
    return {
        "office": "BFOUAG", "corridor": "LOM-NIA", "q_ref": ref[-9:-2],  # a part of a reference, as typed
        "q_grn": (biggest[1] or "")[4:11], "grn": biggest[1] or "", "after": after.isoformat(),
        "before": before.isoformat(), "guarantee": biggest[0], "bank": bank,
        "month_last": f"{today.year:04d}-{today.month:02d}",
        "month_first": f"{today.year - 3 + (today.month == 12):04d}-{today.month % 12 + 1:02d}",  # 36 months
    }


def _busiest_visible(user) -> int | None:
    """The guarantee with the longest ledger among those ``user`` may see (its page has the most holds)."""
    from guarantees.selectors.guarantees import guarantees_visible_to

    return guarantees_visible_to(user=user).order_by("-ledger_seq").values_list("pk", flat=True).first()


def _fill(template: str, places: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(places[m.group(1)]), template)


def _url(path: str, query: dict, places: dict) -> str:
    path = _fill(path, places)
    filled = {k: _fill(str(v), places) for k, v in query.items()}
    return f"{path}?{urlencode(filled)}" if filled else path


def _sql_times(statements: list[str], conn, repeat: int) -> list[float]:
    times = []
    with conn.cursor() as cur:
        for _ in range(repeat):
            t0 = time.perf_counter()
            for sql in statements:
                cur.execute(sql)  # no parameters: psycopg reads no placeholder in it
                if cur.description is not None:
                    cur.fetchall()
            times.append(time.perf_counter() - t0)
            conn.rollback()
    return sorted(times)


def measure(client, url: str, *, repeat: int, warmup: int, conn) -> dict:
    import contextlib

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    accept = {"HTTP_ACCEPT": "application/json"} if url.startswith("/api/") else {}
    from django.core.cache import cache

    # Each URL from an empty cache: the API's rate limits count afresh (a run sends each URL ~30 times), and a
    # report's first request reads its snapshot (first_ms).
    cache.clear()
    first_ms = None
    for i in range(warmup):
        t0 = time.perf_counter()
        response = client.get(url, **accept)
        if i == 0:
            first_ms = _ms(time.perf_counter() - t0)
        if response.status_code != 200:
            return {"status": response.status_code}
    # The pages' statements and the reports' (the "reporting" alias: here the same database, another connection).
    with contextlib.ExitStack() as stack:
        captures = [stack.enter_context(CaptureQueriesContext(connections[alias]))
                    for alias in ("default", "reporting") if alias in connections.settings]
        response = client.get(url, **accept)
    statements = [q["sql"] for captured in captures for q in captured.captured_queries]
    page_times = []
    size = len(response.content)
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url, **accept)
        page_times.append(time.perf_counter() - t0)
    page_times.sort()
    # The session and the user's row are read by middleware on every request: part of the page's SQL.
    sql = [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "UPDATE", "INSERT", "DELETE"))]
    try:
        sql_times = _sql_times(sql, conn, repeat)
    except Exception as exc:
        conn.rollback()
        sql_times = []
        sql_error = f"{type(exc).__name__}: {exc}"[:200]
    else:
        sql_error = None
    p50, p95 = percentile(page_times, 50), percentile(page_times, 95)
    sql50 = percentile(sql_times, 50)
    result = {
        "status": response.status_code, "p50_ms": _ms(p50), "p95_ms": _ms(p95), "queries": len(statements),
        "sql_p50_ms": _ms(sql50), "ratio": round(p50 / sql50, 2) if sql50 else None, "bytes": size,
        # The first request: for a report page, the one that read its snapshot (reporting.snapshots; tasks run
        # in the request here), i.e. how long the background task takes.
        "first_ms": first_ms,
    }
    if sql_error:
        result["sql_error"] = sql_error
    return result


def run(options: dict, *, log=print) -> dict:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from benchmarks.common import psycopg_params
    from benchmarks.seed import seed, sign_in_users

    if options["repeat"] < 1:
        raise ValueError("--repeat must be positive.")
    seeded = None
    if not options.get("seeded"):
        seeded = seed(transits=options["transits"], guarantees=options["guarantees"], log=log)
    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
        call_command("createcachetable", verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    _static_without_manifest(log)
    places = _places(log)
    users = sign_in_users()
    db = dict(connections["default"].settings_dict)
    counts = _counts()
    log(f"pages: {counts}")
    conn = psycopg.connect(**psycopg_params(db))
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 403s are reported in the result
    load_before = host_load()
    results: dict[str, dict] = {}
    over = []
    try:
        for role, user in users.items():
            if options.get("role") and role not in options["role"]:
                continue
            client = _signed_in_client(user)
            results[role] = {}
            busiest = _busiest_visible(user)
            role_places = {**places, "guarantee": busiest or places["guarantee"]}
            for label, path, query in URLS:
                if options.get("only") and options["only"] not in label:
                    continue
                url = _url(path, query, role_places)
                figures = measure(client, url, repeat=options["repeat"], warmup=options["warmup"], conn=conn)
                figures["url"] = url
                results[role][label] = figures
                if figures.get("p95_ms") is not None:
                    log(f"pages: {role:12} {label:32} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms"
                        f"  sql {figures['sql_p50_ms'] or 0:6.1f} ms  {figures['queries']:2} queries  first {figures['first_ms'] or 0:7.1f} ms")
                    if figures["p95_ms"] > options["aim_ms"]:
                        over.append(f"{role} {label} ({figures['p95_ms']} ms)")
                else:
                    log(f"pages: {role:12} {label:32} status {figures['status']} (left out)")
    finally:
        conn.close()
    measured = [f for r in results.values() for f in r.values() if f.get("p95_ms") is not None]
    return {
        "benchmark": "pages",
        "data": counts,
        "seeded_here": seeded,
        "repeat": options["repeat"],
        "pages_measured": len(measured),
        "aim": {"p95_ms": options["aim_ms"], "over": len(over), "met": not over},
        "over_aim": over,
        "worst_p95_ms": max((f["p95_ms"] for f in measured), default=None),
        "results": results,
        "host": {"before": load_before, "after": host_load(), "note": "one client, in-process test client"},
    }


def _static_without_manifest(log) -> None:
    """Without ``collectstatic`` the manifest storage refuses every page; plain static URLs cost the same."""
    from django.contrib.staticfiles.storage import (
        StaticFilesStorage,
        staticfiles_storage,
    )

    try:
        staticfiles_storage.url("css/registry.css")
    except ValueError:
        log("pages: no static files manifest (collectstatic not run): plain static URLs")
        staticfiles_storage._wrapped = StaticFilesStorage()


def _counts() -> dict:
    from django.db import connection

    from guarantees.models import Guarantee, LedgerEntry, Transit, TransitStop

    # Planner estimates: exact counts of a million rows would take longer than the run's first page.
    out = {}
    with connection.cursor() as cur:
        for name, model in (("transits", Transit), ("stops", TransitStop), ("guarantees", Guarantee),
                            ("ledger_entries", LedgerEntry)):
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
            row = cur.fetchone()
            out[name] = row[0] if row else None
    return out
