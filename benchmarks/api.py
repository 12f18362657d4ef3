"""``benchmark api``: ``POST /api/v1/transits`` over HTTP, under gunicorn, against the least SQL doing the same work.

1. Setup: the reference data (``reference_import``), the customs of Togo with an API key (``api_key_create``), and a
   fresh set of active guarantees (``BENCH-<RUN>-NNNNNN``, room for the whole run, as ``benchmark holds`` builds
   them), each with an access code (an ``AccessCode`` row keyed by ``access_code_hash``, as ``access_code_issue``
   writes it).
2. The application under gunicorn, in a subprocess on a free port of 127.0.0.1: ``--workers`` sync workers, DEBUG
   off, persistent database connections, the cache in Redis when one answers (else the database cache), the
   per-key rate limit lifted. Stopped (its whole process group) when the run ends, whatever happens.
3. HTTP phase: ``--clients`` processes, each with its own keep-alive ``http.client`` connection, declare transits
   Lomé → Ouagadougou (route and corridor, ``amount`` given, a unique ``declaration_ref``) on a random guarantee of
   the set, timing each request; 201 is a success, any other answer an error (counted by status).
4. SQL ceiling: the same clients, same duration, doing with psycopg 3 directly the minimal work of a declaration:
   the hold (the two statements of ``ledger_hold_postgresql``: lock and read; insert hold and chained entry, move
   the balance) and the transit with its stops (one statement), then commit. HTTP and SQL run in ``--rounds``
   alternating slices (after an unmeasured warm-up of the workers), so that other load on the machine weighs on
   both alike.
5. Checks: guarantees overdrawn (``held + claimed + paid > amount``), ``ledger_verify`` over the run's set, and
   every declaration answered 201 recorded as a transit.
6. CPU per declaration, over the HTTP slices: gunicorn's processes, and the PostgreSQL backends of the run's own
   database (``BackendCpu``), never another program's sessions on the same cluster.

Aim: ratio HTTP / SQL ≥ 0.2 and p99 < 100 ms.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    CONCURRENCY_MODES,
    OK,
    BackendCpu,
    BenchmarkError,
    Client,
    combine,
    host_load,
    process_cpu_seconds,
    run_phase,
)

HELP = "POST /api/v1/transits over HTTP under gunicorn vs the same declaration in raw SQL (psycopg 3)."

AIM = {"ratio": 0.2, "p99_ms": 100}
ROOT = Path(__file__).resolve().parent.parent
MAX_AMOUNT = 1000
DEPARTURE, DESTINATION, ROUTE, CORRIDOR = "TGLOME", "BFOUAG", ("TGCINK", "BFCINK"), "LOM-OUA"
SENDER_COUNTRY = "TG"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
DEFAULT_APP_SETTINGS = "config.settings.base"  # DEBUG off, the cache in Redis when REDIS_URL is set
EXCEPTION = "exception"
# The per-key limit, lifted: the settings read an empty variable as "use the default" (3000/s), so "" would not.
NO_LIMIT = "1000000000/s"


def add_arguments(parser) -> None:
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients (default 16).")
    parser.add_argument("--seconds", type=float, default=20, help="Duration of each measured phase (default 20).")
    parser.add_argument("--guarantees", type=int, default=100, help="Guarantees declared on (default 100).")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: 2 per CPU, between 2 and 4).")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync).")
    parser.add_argument("--threads", type=int, default=1, help="Threads per gunicorn worker (gthread; default 1).")
    parser.add_argument(
        "--rounds", type=int, default=4,
        help="Alternate HTTP and SQL slices this many times (each slice --seconds/rounds), so that other load on "
             "the machine weighs on both alike (default 4).",
    )
    parser.add_argument("--warmup", type=float, default=None,
                        help="Unmeasured HTTP warm-up before the first slice, seconds (default: min(2, seconds/4)).")
    parser.add_argument("--redis-url", default=None,
                        help=f"Cache of the application (default REDIS_URL, else {DEFAULT_REDIS_URL} if it answers, "
                             "else the database cache).")
    parser.add_argument("--app-settings", default=None,
                        help=f"DJANGO_SETTINGS_MODULE of gunicorn (default {DEFAULT_APP_SETTINGS}).")
    parser.add_argument("--concurrency", choices=CONCURRENCY_MODES, default="processes",
                        help="Clients as processes (default) or threads.")
    parser.add_argument("--profile-seconds", type=float, default=0,
                        help="After the run, record the gunicorn workers with py-spy for this long under load "
                             "(needs py-spy; prints where to find the flame graphs). Default 0: no profile.")


# --- Clients -------------------------------------------------------------------------------------


def declaration(*, ref: str, grn: str, code: str, amount: int, declared_at: str) -> dict:
    return {
        "declaration_ref": ref, "grn": grn, "access_code": code,
        "office_of_departure": DEPARTURE, "office_of_destination": DESTINATION, "route": list(ROUTE),
        "corridor": CORRIDOR, "declared_at": declared_at, "amount": amount,
        "transport": {"vehicle": "BF-1234-AB", "containers": ["MSCU1234567"], "seals": ["TG000123"]},
    }


def _declared_at() -> str:
    at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class HttpClient(Client):
    """Declares transits through the API, on its own keep-alive connection (reopened when the server closes it)."""

    def __init__(self, index, params):
        super().__init__(index, params)
        self.conn = http.client.HTTPConnection("127.0.0.1", params["port"], timeout=60)
        self.headers = {
            "Authorization": f"Api-Key {params['key']}", "Content-Type": "application/json",
            "Accept": "application/json", "Connection": "keep-alive",
        }
        self.rng = random.Random(f"{params['run']}-{params['phase']}-{index}")
        self.targets = params["targets"]
        self.prefix = f"BENCH-{params['run']}-{params['phase']}-{index}-"
        self.declared_at = _declared_at()
        self.statuses: dict[int, int] = {}

    def op(self, i):
        grn, code, _pk = self.rng.choice(self.targets)
        body = json.dumps(declaration(ref=f"{self.prefix}{i}", grn=grn, code=code,
                                      amount=self.rng.randint(1, MAX_AMOUNT), declared_at=self.declared_at))
        try:
            self.conn.request("POST", "/api/v1/transits", body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the next request reconnects
            raise
        if response.will_close:
            self.conn.close()
        return OK if response.status == 201 else f"http_{response.status}"

    def close(self):
        self.conn.close()


class SqlClient(Client):
    """The minimal transaction of a declaration, on its own psycopg 3 connection: the hold as
    ``ledger_hold_postgresql`` takes it (2 statements), then the transit and its stops (1 statement), commit."""

    def __init__(self, index, params):
        super().__init__(index, params)
        import psycopg
        from psycopg.types.json import Jsonb

        from guarantees.services.ledger import _HOLD_LOCK_SQL, _HOLD_WRITE_SQL, ledger_entry

        self.lock_sql, self.write_sql, self.ledger_entry, self.jsonb = _HOLD_LOCK_SQL, _HOLD_WRITE_SQL, ledger_entry, Jsonb
        self.conn = psycopg.connect(**params["psycopg"])  # not autocommit: the first statement opens BEGIN
        self.rng = random.Random(f"{params['run']}-{params['phase']}-{index}")
        self.targets = params["targets"]
        self.places = params["places"]
        self.prefix = f"BENCH-{params['run']}-{params['phase']}-{index}-"
        self.insert_transit = _insert_transit_sql(len(self.places["stops"]))

    def op(self, i):
        grn, _code, guarantee_id = self.rng.choice(self.targets)
        amount = self.rng.randint(1, MAX_AMOUNT)
        ref = f"{self.prefix}{i}"
        places = self.places
        conn = self.conn
        try:
            with conn.cursor() as cur:
                cur.execute(self.lock_sql, (ref, guarantee_id))
                row = cur.fetchone()
                status, valid_from, valid_until, total, held, claimed, paid, seq, prev_hash, hold_id = row[:10]
                now = datetime.datetime.now(datetime.UTC)
                if row[10] is not None or status != "active" or not (valid_from <= now.date() <= valid_until):
                    raise RuntimeError(f"guarantee {guarantee_id} cannot take the hold {ref}")
                if total - held - claimed - paid < amount:
                    raise RuntimeError(f"guarantee {guarantee_id} has no room left")
                entry = self.ledger_entry(guarantee_id=guarantee_id, seq=seq + 1, prev_hash=prev_hash, kind="hold",
                                          d_held=amount, hold_id=hold_id, reference=ref, created_at=now)
                cur.execute(self.write_sql, {
                    "hold_id": hold_id, "guarantee_id": guarantee_id, "reference": ref, "amount": amount,
                    "held": "held", "kind": "hold", "by_id": None, "now": now, "seq": seq + 1, "prev_seq": seq,
                    "prev_hash": prev_hash, "hash": entry.hash, "key_id": entry.key_id,
                })
                if cur.rowcount != 1:
                    raise RuntimeError(f"guarantee {guarantee_id} changed under its row lock")
                declared_at = now - datetime.timedelta(hours=1)
                content = hashlib.sha256(f"{ref}|{grn}|{amount}|{declared_at.isoformat()}".encode()).hexdigest()
                stops = []
                for position, (office_id, country_id, role) in enumerate(places["stops"]):
                    stops += [position, office_id, country_id, role]
                cur.execute(self.insert_transit, [
                    ref, guarantee_id, hold_id, places["departure"], places["destination"], places["corridor"],
                    declared_at, declared_at + datetime.timedelta(days=places["days"]), amount,
                    self.jsonb(places["transport"]), content, places["sender"], places["api_key"], now, *stops,
                ])
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return OK

    def close(self):
        self.conn.close()


def _insert_transit_sql(stops: int) -> str:
    from guarantees.models import Transit, TransitStop

    values = ", ".join("(%s::smallint, %s::bigint, %s, %s)" for _ in range(stops))
    return (
        f"WITH t AS (INSERT INTO {Transit._meta.db_table} (declaration_ref, guarantee_id, hold_id, status, "
        "office_of_departure_id, office_of_destination_id, corridor_id, declared_at, deadline, amount_held, "
        "amount_source, amount_breakdown, goods, transport, content_hash, declared_by_id, api_key_id, created_at) "
        "VALUES (%s, %s, %s, 'declared', %s, %s, %s, %s, %s, %s, 'declared', '{}'::jsonb, '[]'::jsonb, %s, %s, %s, "
        "%s, %s) RETURNING id) "
        f"INSERT INTO {TransitStop._meta.db_table} (transit_id, position, office_id, country_id, role) "
        f"SELECT t.id, s.position, s.office_id, s.country_id, s.role FROM t, (VALUES {values}) "
        "AS s(position, office_id, country_id, role)"
    )


# --- Setup ---------------------------------------------------------------------------------------


def setup_world(run: str, count: int, *, log=print) -> dict:
    """Reference data, Togo's customs and its API key, ``count`` guarantees with an access code each."""
    from django.db import transaction

    from accounts.api_keys import api_key_create
    from accounts.models import Organisation, User
    from accounts.roles import OrganisationKind
    from benchmarks.holds import create_guarantees
    from guarantees.models import AccessCode, Corridor, Guarantee, Office, StopRole
    from guarantees.reference.importer import reference_import
    from guarantees.services.access_codes import ALPHABET, CODE_LENGTH, access_code_hash

    log(f"run {run}: reference data...")
    reference_import()
    sender = (
        Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=SENDER_COUNTRY, is_active=True).first()
        or Organisation.objects.create(kind=OrganisationKind.CUSTOMS, name=f"Douanes {SENDER_COUNTRY}",
                                       country=SENDER_COUNTRY)
    )
    api_key, raw_key = api_key_create(organisation=sender, name=f"Benchmark {run}")

    log(f"run {run}: {count} guarantee(s) with their access codes...")
    ids = create_guarantees(run, count)  # the GRN holds the run id: upper case, as the API normalises GRNs
    user = User.objects.get(email="benchmark@caution-unique.invalid")
    rng = random.SystemRandom()
    grns = dict(Guarantee.objects.filter(pk__in=ids).values_list("pk", "grn"))
    codes = {pk: "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH)) for pk in ids}
    with transaction.atomic():
        AccessCode.objects.bulk_create(
            [AccessCode(guarantee_id=pk, code_hash=access_code_hash(guarantee_id=pk, code=codes[pk]),
                        label=f"benchmark {run}", created_by=user) for pk in ids],
            batch_size=1000,
        )

    offices = {o.code: o for o in Office.objects.filter(code__in=[DEPARTURE, *ROUTE, DESTINATION])}
    corridor = Corridor.objects.filter(code=CORRIDOR, is_active=True).first()
    if len(offices) != 2 + len(ROUTE) or corridor is None:
        raise BenchmarkError(f"The reference data lacks the offices {DEPARTURE}, {', '.join(ROUTE)}, {DESTINATION} "
                             f"or the corridor {CORRIDOR}.")
    path = [DEPARTURE, *ROUTE, DESTINATION]
    stops = [
        (offices[code].pk, offices[code].country_id,
         StopRole.DEPARTURE if i == 0 else StopRole.DESTINATION if i == len(path) - 1 else StopRole.BORDER)
        for i, code in enumerate(path)
    ]
    return {
        "ids": ids,
        "key": raw_key,
        "targets": [(grns[pk], codes[pk], pk) for pk in ids],
        "places": {
            "departure": offices[DEPARTURE].pk, "destination": offices[DESTINATION].pk, "corridor": corridor.pk,
            "days": corridor.time_limit_days, "sender": sender.pk, "api_key": api_key.pk, "stops": stops,
            "transport": {"vehicle": "BF-1234-AB"},
        },
    }


# --- gunicorn ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db: dict) -> str:
    from urllib.parse import quote

    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    auth = f"{quote(user)}:{quote(password)}@" if password else (f"{quote(user)}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def redis_answers(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means no usable Redis
        return False


class Gunicorn:
    """``gunicorn config.wsgi:application`` in its own session (a signal reaches master and workers alike)."""

    def __init__(self, *, port: int, workers: int, worker_class: str, threads: int, env: dict, log_path: Path):
        self.port, self.workers, self.worker_class, self.threads = port, workers, worker_class, threads
        self.env, self.log_path = env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self, *, key: str, timeout: float = 60) -> Gunicorn:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(self.workers),
            "--worker-class", self.worker_class, "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{self.port}", "--backlog", "2048", "--keep-alive", "5",
            "--log-level", "warning", "--graceful-timeout", "5",
        ]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchmarkError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            status = self._probe(key)
            if status is not None:
                if status >= 500 or status in (401, 403):
                    raise BenchmarkError(f"gunicorn answers {status} to an authenticated GET:\n{self.log_tail()}")
                return self
            time.sleep(0.2)
        raise BenchmarkError(f"gunicorn did not answer within {timeout:g} s:\n{self.log_tail()}")

    def _probe(self, key: str) -> int | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/api/v1/transits?page_size=1", headers={"Authorization": f"Api-Key {key}"})
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False)
        except FileNotFoundError:
            return []
        return [int(pid) for pid in out.stdout.split()]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def app_environment(*, db: dict, redis_url: str | None, settings_module: str) -> dict:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url(db),
        "DB_CONN_MAX_AGE": "600",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_THROTTLE_API_KEY": NO_LIMIT,
        # Access codes are stored as an HMAC keyed with the secret: the app must use this process's.
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",  # production settings: plain HTTP on the loopback
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _cpu_sample(server: Gunicorn, backends: BackendCpu) -> dict:
    """What gunicorn (master and workers) used so far, in CPU seconds, and the CPU of the backends of the run's
    database when PostgreSQL runs on this machine (the sessions of gunicorn's persistent connections live through
    the HTTP phase, so none is missed)."""
    tree = set(server.worker_pids()) | ({server.proc.pid} if server.proc else set())
    return {
        "application": process_cpu_seconds(lambda pid, name: pid in tree),
        "database": backends.sample(),
    }


def _cpu_used(before: dict, after: dict) -> dict:
    application = None
    if before["application"] is not None and after["application"] is not None:
        application = after["application"] - before["application"]
    return {"application": application, "database": BackendCpu.seconds(before["database"], after["database"])}


# --- Profile -------------------------------------------------------------------------------------


def profile_workers(server: Gunicorn, *, seconds: float, out_dir: Path, log) -> tuple[list, list[str]] | None:
    """Start ``py-spy record`` (raw folded stacks) on each gunicorn worker for ``seconds``; the caller keeps the
    workers busy meanwhile. Returns ``(processes, output paths)``, or None without py-spy."""
    import shutil

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        log("py-spy is not installed (pip install py-spy): no profile")
        return None
    procs, paths = [], []
    for pid in server.worker_pids():
        path = out_dir / f"py-spy-{pid}.txt"
        procs.append(subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--format", "raw",
             "--rate", "200", "--nonblocking", "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        paths.append(str(path))
    return procs, paths


# Where a request's time goes, by the frames of the folded stacks that contain it (shares overlap).
PROFILE_MARKERS = {
    "api_key_authenticate": "api_key_authenticate (",
    "throttle": "allow_request (",
    "access_code_check": "access_code_check (",
    "transit_declare": "transit_declare (",
    "hold_reserve": "hold_reserve (",
    "declaration_receipt": "_declaration_receipt (",
    "input_validation": "is_valid (",
    "in_psycopg_calls": "psycopg/",
    "in_redis_calls": "redis/",
    "orm_compile": "as_sql (",
}


def summarise_profile(paths: list[str]) -> dict:
    """Share of the workers' samples (in %) under each of ``PROFILE_MARKERS``."""
    totals = dict.fromkeys(PROFILE_MARKERS, 0)
    samples = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError), open(path) as lines:
            for line in lines:
                stack, _sep, count = line.rstrip().rpartition(" ")
                if not stack or not count.isdigit():
                    continue
                samples += int(count)
                for label, marker in PROFILE_MARKERS.items():
                    if marker in stack:
                        totals[label] += int(count)
    return {"samples": samples, **{k: round(100 * v / samples, 1) if samples else None for k, v in totals.items()}}


# --- The run -------------------------------------------------------------------------------------


def _phase_json(result, *, seconds_label: str = "") -> dict:
    summary = result.summary()
    statuses = {"201": result.ops}
    for outcome, count in sorted(result.outcomes.items()):
        if outcome.startswith("http_"):
            statuses[outcome[5:]] = count
    if result.errors:
        statuses[EXCEPTION] = result.errors
    failed = sum(v for k, v in statuses.items() if k != "201")
    data = {
        "requests": result.ops + failed,
        "declared": result.ops,
        "throughput_per_s": summary["throughput_per_s"],
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "errors": failed,
        "status_counts": statuses,
    }
    if summary.get("error_samples"):
        data["error_samples"] = summary["error_samples"]
    return data


def run(options: dict, *, log=print) -> dict:
    from django.core.management import call_command
    from django.db import connections

    from benchmarks.common import psycopg_params
    from benchmarks.holds import check
    from guarantees.models import Transit

    clients, seconds, count = options["clients"], options["seconds"], options["guarantees"]
    concurrency = options["concurrency"]
    if clients < 1 or seconds <= 0 or count < 1:
        raise ValueError("--clients, --seconds and --guarantees must be positive.")
    workers = options["workers"] or max(2, min(4, 2 * (os.cpu_count() or 1)))
    if workers < 1:
        raise ValueError("--workers must be positive.")
    rounds = max(1, options["rounds"])
    warmup = options["warmup"] if options["warmup"] is not None else min(2.0, seconds / 4)

    run_id = secrets.token_hex(4).upper()
    db = dict(connections["default"].settings_dict)
    world = setup_world(run_id, count, log=log)

    redis_url = options.get("redis_url") or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_answers(redis_url):
        log(f"no Redis at {redis_url}: the application caches in the database")
        redis_url = None
        call_command("createcachetable", verbosity=0)
    settings_module = options.get("app_settings") or DEFAULT_APP_SETTINGS
    connections.close_all()

    log_dir = Path(tempfile.mkdtemp(prefix=f"benchmark-api-{run_id}-"))
    server = Gunicorn(port=free_port(), workers=workers, worker_class=options["worker_class"],
                      threads=max(1, options["threads"]),
                      env=app_environment(db=db, redis_url=redis_url, settings_module=settings_module),
                      log_path=log_dir / "gunicorn.log")
    common = {"run": run_id, "targets": world["targets"]}
    http_params = {**common, "port": server.port, "key": world["key"]}
    sql_params = {**common, "psycopg": psycopg_params(db), "places": world["places"]}

    def phase(client_cls, name, duration, params):
        log(f"run {run_id}: {name}, {clients} {concurrency}, {duration:g} s...")
        return run_phase(client_cls, clients=clients, seconds=duration, concurrency=concurrency,
                         params={**params, "phase": name}, db_settings=db)

    load_before = host_load()
    profile = None
    backends = BackendCpu(db)
    try:
        log(f"run {run_id}: starting gunicorn ({workers} {options['worker_class']} workers, port {server.port}, "
            f"log {server.log_path})...")
        server.start(key=world["key"])
        if warmup > 0:
            phase(HttpClient, "W", warmup, http_params)
        http_slices, sql_slices = [], []
        cpu = {"application": 0.0, "database": 0.0}
        for r in range(rounds):
            before = _cpu_sample(server, backends)
            http_slices.append(phase(HttpClient, f"H{r}", seconds / rounds, http_params))
            used = _cpu_used(before, _cpu_sample(server, backends))
            for name in cpu:
                if cpu[name] is not None and used[name] is not None:
                    cpu[name] += used[name]
                else:
                    cpu[name] = None  # no /proc here, or PostgreSQL on another machine
            sql_slices.append(phase(SqlClient, f"S{r}", seconds / rounds, sql_params))
        if options.get("profile_seconds"):
            started = profile_workers(server, seconds=options["profile_seconds"], out_dir=log_dir, log=log)
            if started is not None:
                procs, profile = started
                phase(HttpClient, "P", options["profile_seconds"] + 1, http_params)
                for proc in procs:
                    proc.wait(60)
        gunicorn_log = server.log_tail(10)
    finally:
        backends.close()
        server.stop()
    load_after = host_load()
    served, ceiling = combine(http_slices), combine(sql_slices)

    log(f"run {run_id}: checking balances, ledger chains and transits...")
    overdraws, ledger_problems, problem_samples = check(world["ids"])
    recorded = Transit.objects.filter(declaration_ref__startswith=f"BENCH-{run_id}-H").count()

    ratio = served.throughput / ceiling.throughput if ceiling.throughput else None
    http_json = _phase_json(served)
    met = (ratio is not None and ratio >= AIM["ratio"] and http_json["p99_ms"] is not None
           and http_json["p99_ms"] < AIM["p99_ms"])
    result = {
        "benchmark": "api",
        "clients": clients,
        "seconds": seconds,
        "guarantees": count,
        "rounds": rounds,
        "run": run_id,
        "http": http_json,
        "sql_ceiling": _phase_json(ceiling),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "aim": {**AIM, "met": met},
        "gunicorn_workers": workers,
        "gunicorn": {"worker_class": options["worker_class"], "threads": max(1, options["threads"]),
                     "settings": settings_module, "cache": "redis" if redis_url else "database"},
        "cpu_ms_per_declaration": {
            name: round(1000 * used / served.ops, 2) if served.ops and used is not None else None
            for name, used in cpu.items()
        },
        "overdraws": overdraws,
        "ledger_problems": ledger_problems,
        "transits_recorded": {"declared_201": served.ops, "in_database": recorded, "match": recorded == served.ops},
        "concurrency": concurrency,
        "host": {"before": load_before, "after": load_after},
    }
    if problem_samples:
        result["ledger_problem_samples"] = problem_samples
    if profile:
        result["profile"] = {"files": profile, "share_pct": summarise_profile(profile)}
    if http_json["errors"] and gunicorn_log:
        result["gunicorn_log_tail"] = gunicorn_log
    return result
