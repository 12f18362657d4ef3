"""Scale-out and failover drill on the local PostgreSQL (Debian's cluster tools, run as root): ``deploy/drill``.

1. A streaming standby of the local cluster on another port: ``pg_createcluster``, then ``pg_basebackup`` with a
   replication slot; replication checked (a write on the primary read back on the standby).
2. The ``reporting`` database alias pointed at the standby (``REPORTING_DATABASE_URL``): a report read through
   ``.using("reporting")`` comes from the standby, every write of the same work goes to the primary, and a write
   through the alias is refused by the standby itself.
3. ``tests/guarantees/api`` through PgBouncer in transaction mode (Debian's ``pgbouncer``, ``DB_PREPARED_STATEMENTS=0``).
4. The cost of synchronous replication: ``benchmark holds`` with and without it.
5. Failover with declarations flowing: the application (gunicorn) reaches the database through PgBouncer; the
   drill database commits synchronously to the standby; under load the old primary is fenced off for that
   database, the standby promoted, PgBouncer pointed at it (PAUSE, RELOAD, RESUME: the application is not
   restarted); then every declaration answered 201 is looked up on the new primary, and ``verify_ledger`` runs
   there.
6. Clean-up, whatever happened: the standby cluster dropped, the slot dropped, the primary's ``pg_hba.conf`` and
   ``postgresql.auto.conf`` put back as they were and reloaded; checked at the end
   (``synchronous_standby_names`` empty, no replication slot of the drill left).

The machine's PostgreSQL is shared: only the drill's own database ever waits for the standby (the server's
default becomes ``synchronous_commit = local`` for the drill's few minutes, and the drill's database alone is
set to ``on``), and the primary is never stopped — its "death" is simulated for the drill's database only
(connections refused and closed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PRIMARY_PORT = 5432
STANDBY_PORT = 5433
PGBOUNCER_PORT = 6433
CLUSTER = "drill"
SLOT = "drill_slot"
STANDBY_NAME = "drill_standby"
DATABASE = "cu_drill"
API_TEST_DATABASE = "cu_drill_api"
DRILL_MARK = "# caution drill"  # on every line the drill adds to pg_hba.conf
HBA_LINE = f"host replication all 127.0.0.1/32 trust  {DRILL_MARK} (removed at the end)"

T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[drill {time.monotonic() - T0:7.1f}s] {message}", flush=True)


def run(*command, check: bool = True, capture: bool = True, env: dict | None = None, timeout: float = 600,
        cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=capture, text=True, env=env, timeout=timeout,
                            cwd=cwd)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                           f"{(result.stdout or '')[-3000:]}\n{(result.stderr or '')[-3000:]}")
    return result


def url(port: int, database: str) -> str:
    return f"postgres://postgres@{HOST}:{port}/{database}"


def sql(port: int, database: str, statement: str, *, autocommit: bool = True):
    import psycopg

    with psycopg.connect(url(port, database), autocommit=autocommit, connect_timeout=10) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else None


def one(port: int, database: str, statement: str):
    rows = sql(port, database, statement)
    return rows[0][0] if rows else None


# --- The primary's configuration, kept and put back ----------------------------------------------------------


class Primary:
    def __init__(self):
        versions = sorted(os.listdir("/etc/postgresql"))
        self.version = versions[-1]
        self.hba = Path(one(PRIMARY_PORT, "postgres", "SHOW hba_file"))
        self.data = Path(one(PRIMARY_PORT, "postgres", "SHOW data_directory"))
        self.auto_conf = self.data / "postgresql.auto.conf"
        # Without the lines an interrupted drill left (they carry its mark): --cleanup-only removes them too.
        self.saved_hba = "".join(line for line in self.hba.read_text().splitlines(keepends=True)
                                 if DRILL_MARK not in line)
        self.saved_auto = self.auto_conf.read_text()

    def reload(self) -> None:
        one(PRIMARY_PORT, "postgres", "SELECT pg_reload_conf()")
        time.sleep(0.5)

    def allow_replication(self) -> None:
        if "replication" not in "".join(
            line for line in self.saved_hba.splitlines() if not line.lstrip().startswith("#")
        ):
            self.hba.write_text(self.saved_hba.rstrip("\n") + "\n" + HBA_LINE + "\n")
            self.reload()

    def fence(self, database: str) -> None:
        """The old primary "dies" for ``database`` only: new connections refused (pg_hba.conf, which is not
        replicated, unlike ALTER DATABASE ... ALLOW_CONNECTIONS), the open ones closed."""
        current = self.hba.read_text()
        self.hba.write_text(f"local {database} all reject  {DRILL_MARK}: fenced\n"
                            f"host {database} all 127.0.0.1/32 reject  {DRILL_MARK}: fenced\n" + current)
        self.reload()
        sql(PRIMARY_PORT, "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")

    def synchronous(self, on: bool) -> None:
        if on:
            # Others' databases keep committing locally; only the drill's waits for the standby.
            sql(PRIMARY_PORT, "postgres", "ALTER SYSTEM SET synchronous_commit = 'local'")
            sql(PRIMARY_PORT, "postgres", f"ALTER DATABASE {DATABASE} SET synchronous_commit = 'on'")
            sql(PRIMARY_PORT, "postgres", f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
        else:
            sql(PRIMARY_PORT, "postgres", "ALTER SYSTEM RESET synchronous_standby_names")
            sql(PRIMARY_PORT, "postgres", "ALTER SYSTEM RESET synchronous_commit")
            with contextlib.suppress(Exception):
                sql(PRIMARY_PORT, "postgres", f"ALTER DATABASE {DATABASE} RESET synchronous_commit")
        self.reload()

    def restore(self) -> dict:
        with contextlib.suppress(Exception):
            sql(PRIMARY_PORT, "postgres", "ALTER SYSTEM RESET synchronous_standby_names")
            sql(PRIMARY_PORT, "postgres", "ALTER SYSTEM RESET synchronous_commit")
        if self.auto_conf.read_text() != self.saved_auto:
            self.auto_conf.write_text(self.saved_auto)
        if self.hba.read_text() != self.saved_hba:
            self.hba.write_text(self.saved_hba)
        self.reload()
        with contextlib.suppress(Exception):
            sql(PRIMARY_PORT, "postgres",
                f"SELECT pg_drop_replication_slot('{SLOT}') FROM pg_replication_slots WHERE slot_name = '{SLOT}'")
        for database in (DATABASE, API_TEST_DATABASE, f"test_{API_TEST_DATABASE}"):
            with contextlib.suppress(Exception):
                sql(PRIMARY_PORT, "postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        return {
            "synchronous_standby_names": one(PRIMARY_PORT, "postgres", "SHOW synchronous_standby_names"),
            "synchronous_commit": one(PRIMARY_PORT, "postgres", "SHOW synchronous_commit"),
            "replication_slots": [r[0] for r in sql(PRIMARY_PORT, "postgres",
                                                    "SELECT slot_name FROM pg_replication_slots")],
            "pg_hba_as_before": self.hba.read_text() == self.saved_hba,
            "auto_conf_as_before": self.auto_conf.read_text() == self.saved_auto,
        }


# --- The standby -----------------------------------------------------------------------------------------------


class Standby:
    def __init__(self, version: str):
        self.version = version
        self.data = Path(f"/var/lib/postgresql/{version}/{CLUSTER}")
        self.etc = Path(f"/etc/postgresql/{version}/{CLUSTER}")

    def exists(self) -> bool:
        return self.etc.exists() or self.data.exists()

    def create(self) -> float:
        started = time.monotonic()
        run("pg_createcluster", self.version, CLUSTER, "--port", STANDBY_PORT)
        # The cluster's fresh files give way to a copy of the primary's (the folder stays the postgres user's).
        shutil.rmtree(self.data)
        self.data.mkdir(mode=0o700)
        shutil.chown(self.data, "postgres", "postgres")
        run("runuser", "-u", "postgres", "--", "pg_basebackup", "-h", HOST, "-p", PRIMARY_PORT, "-U", "postgres",
            "-D", self.data, "--wal-method=stream", "--create-slot", "--slot", SLOT, "--checkpoint=fast")
        (self.data / "standby.signal").touch()
        with open(self.data / "postgresql.auto.conf", "a") as conf:
            # Last line wins over what the copy brought from the primary's own file.
            conf.write(f"\n# caution drill: a streaming standby of {HOST}:{PRIMARY_PORT}\n"
                       f"primary_conninfo = 'host={HOST} port={PRIMARY_PORT} user=postgres "
                       f"application_name={STANDBY_NAME}'\nprimary_slot_name = '{SLOT}'\nhot_standby = on\n")
        run("chown", "postgres:postgres", self.data / "standby.signal", self.data / "postgresql.auto.conf")
        # Loopback only (listen_addresses stays localhost); the drill connects over TCP as postgres.
        (self.etc / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n"
                                             "host replication all 127.0.0.1/32 trust\n")
        run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, CLUSTER, "start")
        return time.monotonic() - started

    def promote(self) -> float:
        started = time.monotonic()
        one(STANDBY_PORT, "postgres", "SELECT pg_promote(wait => true, wait_seconds => 60)")
        while one(STANDBY_PORT, "postgres", "SELECT pg_is_in_recovery()"):
            time.sleep(0.05)
        return time.monotonic() - started

    def drop(self) -> None:
        if self.exists():
            run("pg_dropcluster", "--stop", self.version, CLUSTER, check=False)
        for path in (self.data, self.etc):
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)


def wait_streaming(timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = sql(PRIMARY_PORT, "postgres", "SELECT application_name, state, sync_state FROM pg_stat_replication "
                                             f"WHERE application_name = '{STANDBY_NAME}'")
        if rows and rows[0][1] == "streaming":
            return {"application_name": rows[0][0], "state": rows[0][1], "sync_state": rows[0][2]}
        time.sleep(0.2)
    raise RuntimeError("the standby did not start streaming")


def wait_replayed(timeout: float = 60) -> float:
    """Seconds until the standby has replayed everything the primary had written when called."""
    target = one(PRIMARY_PORT, "postgres", "SELECT pg_current_wal_lsn()::text")
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if one(STANDBY_PORT, "postgres", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError("the standby did not catch up")


# --- PgBouncer -------------------------------------------------------------------------------------------------


class PgBouncer:
    """Debian's pgbouncer in transaction mode on the loopback, run as postgres (it refuses root)."""

    def __init__(self, directory: Path):
        self.dir = directory
        directory.mkdir(exist_ok=True)
        self.ini = directory / "pgbouncer.ini"
        self.proc: subprocess.Popen | None = None
        self.write(drill_port=PRIMARY_PORT)
        (directory / "userlist.txt").write_text('"postgres" ""\n')
        run("chown", "-R", "postgres:postgres", directory)

    def write(self, *, drill_port: int) -> None:
        self.ini.write_text(f"""[databases]
{DATABASE} = host={HOST} port={drill_port} dbname={DATABASE}
* = host={HOST} port={PRIMARY_PORT}

[pgbouncer]
listen_addr = {HOST}
listen_port = {PGBOUNCER_PORT}
unix_socket_dir = {self.dir}
auth_type = trust
auth_file = {self.dir}/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")

    def start(self) -> None:
        # Its output to a file, never to a pipe nobody reads: pgbouncer writes each connection's log line to stderr
        # as well as to its logfile, and blocked for good once 64 KB of them filled a pipe (the API tests open a
        # connection per request).
        self.output = self.dir / "pgbouncer.stderr"
        with open(self.output, "ab") as output:
            self.proc = subprocess.Popen(["runuser", "-u", "postgres", "--", "pgbouncer", str(self.ini)],
                                         stdout=subprocess.DEVNULL, stderr=output, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if one(PGBOUNCER_PORT, DATABASE, "SELECT 1") == 1:
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer stopped: {self.output.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError("pgbouncer did not answer")

    def admin(self, command: str) -> None:
        import psycopg

        with psycopg.connect(url(PGBOUNCER_PORT, "pgbouncer"), autocommit=True) as conn:
            conn.cursor().execute(command, prepare=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)


# --- Steps -----------------------------------------------------------------------------------------------------


def django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DATABASE_URL"] = url(PRIMARY_PORT, DATABASE)
    os.environ["REPORTING_DATABASE_URL"] = url(STANDBY_PORT, DATABASE)
    os.environ.setdefault("DB_CONN_MAX_AGE", "0")
    import django

    django.setup()


def prepare_drill_database() -> dict:
    from benchmarks.api import setup_world
    from benchmarks.common import create_database, drop_database, parse_database_url, use_database

    from django.core.management import call_command

    db = parse_database_url(url(PRIMARY_PORT, DATABASE))
    drop_database(db, log=lambda m: None)  # what an interrupted drill left
    create_database(db, log=lambda m: None)
    use_database(db)
    call_command("migrate", interactive=False, verbosity=0)
    # The application's cache in the database (no Redis needed): its API limits count there.
    call_command("createcachetable", verbosity=0)
    return setup_world(f"DRILL{uuid.uuid4().hex[:6].upper()}", 40, log=lambda m: None)


def show_reporting(world: dict) -> dict:
    """Reports from the standby through the ``reporting`` alias; the writes of the same work on the primary."""
    from django.db import DatabaseError, connections, transaction
    from django.db.models import Sum
    from django.test.utils import CaptureQueriesContext

    from guarantees.models import Guarantee, Hold
    from guarantees.services.holds import hold_reserve

    in_recovery = {}
    for alias in ("default", "reporting"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            in_recovery[alias] = cursor.fetchone()[0]
    ids = world["ids"][:5]
    with CaptureQueriesContext(connections["default"]) as writes, \
            CaptureQueriesContext(connections["reporting"]) as reads:
        for n, pk in enumerate(ids):
            hold_reserve(guarantee=pk, amount=1000 + n, reference=f"DRILL-R-{uuid.uuid4().hex[:8]}")
        lag = wait_replayed()
        report = list(
            Guarantee.objects.using("reporting").filter(pk__in=ids).order_by("pk").values_list("pk", "held")
        )
        held_on_reporting = Hold.objects.using("reporting").filter(guarantee_id__in=ids).aggregate(s=Sum("amount"))
    held_on_primary = dict(Guarantee.objects.filter(pk__in=ids).values_list("pk", "held"))
    refused = None
    try:
        with transaction.atomic(using="reporting"):
            Guarantee.objects.using("reporting").filter(pk=ids[0]).update(low_balance_pct=11)
    except DatabaseError as exc:
        refused = str(exc).splitlines()[0]

    def kinds(queries):
        """Statements that change data ("writes": INSERT, UPDATE, DELETE, also inside a WITH) and the others."""
        out = {"writes": 0, "reads": 0, "transaction_control": 0}
        for query in queries:
            text = query["sql"].upper()
            if text.lstrip().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
                out["transaction_control"] += 1
            elif any(verb in text for verb in ("INSERT ", "UPDATE ", "DELETE ")):
                out["writes"] += 1
            else:
                out["reads"] += 1
        return out

    return {
        "pg_is_in_recovery": in_recovery,
        "statements_on_primary": kinds(writes.captured_queries),
        "statements_on_standby": kinds(reads.captured_queries),
        "report_matches_primary": all(held_on_primary[pk] == held for pk, held in report),
        "held_by_the_report": held_on_reporting["s"],
        "replay_lag_seconds": round(lag, 4),
        "write_through_reporting_refused": refused,
    }


def pgbouncer_transactions(bouncer: "PgBouncer", database: str) -> int:
    """Transactions PgBouncer passed on for ``database``: proof that the traffic went through it."""
    import psycopg

    with psycopg.connect(url(PGBOUNCER_PORT, "pgbouncer"), autocommit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("SHOW STATS", prepare=False)
        names = [column.name for column in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            if record["database"] == database:
                return int(record["total_xact_count"])
    return 0


def api_tests_through_pgbouncer() -> dict:
    env = {**os.environ, "DATABASE_URL": url(PGBOUNCER_PORT, API_TEST_DATABASE), "DB_PREPARED_STATEMENTS": "0",
           "TEST_REDIS_DB_BASE": os.environ.get("TEST_REDIS_DB_BASE", "3"),
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("REPORTING_DATABASE_URL", None)
    started = time.monotonic()
    # --reuse-db: the test database is dropped by the drill after PgBouncer stops (PgBouncer keeps server
    # connections to it, which a DROP at the end of the run would meet).
    result = run(ROOT / ".venv" / "bin" / "python", "-m", "pytest", "tests/guarantees/api", "-q", "-p", "no:cacheprovider",
                 "--reuse-db", check=False, env=env, cwd=ROOT, timeout=1800)
    tail = [line for line in result.stdout.splitlines() if line.strip()][-3:]
    return {"exit_code": result.returncode, "summary": tail[-1] if tail else "", "seconds": round(
        time.monotonic() - started, 1), "failures": [line for line in result.stdout.splitlines()
                                                      if line.startswith("FAILED")][:20]}


def benchmark_holds(label: str) -> dict:
    # ``manage.py benchmark`` is development tooling, in the local settings only (DEBUG off: no query log). It
    # runs in a database of its own (cu_drill_bench_<run>), which ALTER DATABASE cu_drill does not reach: every
    # session of the run asks for synchronous_commit = on itself (libpq's PGOPTIONS, inherited by its client
    # processes). With synchronous_standby_names empty that is a local flush; set, it waits for the standby.
    env = {**os.environ, "DATABASE_URL": url(PRIMARY_PORT, DATABASE), "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "DEBUG": "0", "PGOPTIONS": "-c synchronous_commit=on"}
    env.pop("REPORTING_DATABASE_URL", None)
    result = run(ROOT / ".venv" / "bin" / "python", "manage.py", "benchmark", "holds", "--clients", "8",
                 "--seconds", "10", env=env, cwd=ROOT, timeout=900)
    data = json.loads(result.stdout)
    say(f"benchmark holds ({label}): {json.dumps(_holds_summary(data))}")
    return data


def _holds_summary(data: dict) -> dict:
    summary = {}
    for key, value in data.items():
        if isinstance(value, dict) and "p50_ms" in value:
            summary[key] = {k: value[k] for k in ("ops", "throughput_per_s", "p50_ms", "p99_ms", "errors")
                            if k in value}
    return summary or data


def commit_latency(count: int = 300) -> dict:
    """One connection committing one-row inserts into the drill database, per ``synchronous_commit`` level: what
    each commit waits for (local flush; the standby's flush; the standby's replay, for reading one's own writes
    on the standby)."""
    import psycopg

    result = {}
    with psycopg.connect(url(PRIMARY_PORT, DATABASE), autocommit=True) as conn:
        for level in ("local", "on", "remote_apply"):
            conn.execute(f"SET synchronous_commit = '{level}'")
            timings = []
            for _ in range(count):
                started = time.perf_counter()
                conn.execute("INSERT INTO drill_probe (note) VALUES ('commit latency')")
                timings.append(time.perf_counter() - started)
            timings.sort()
            result[level] = {"mean_ms": round(1000 * sum(timings) / count, 3),
                             "p50_ms": round(1000 * timings[count // 2], 3),
                             "p99_ms": round(1000 * timings[int(count * 0.99)], 3)}
    return result


class Declarer(threading.Thread):
    """Declares transits through the application as fast as it answers, recording every answer."""

    def __init__(self, index: int, port: int, world: dict, stop: threading.Event):
        super().__init__(daemon=True)
        from benchmarks.api import _declared_at

        self.index, self.port, self.world, self.stop = index, port, world, stop
        self.rng = random.Random(index)
        self.declared_at = _declared_at()
        self.accepted: list[tuple[float, str]] = []
        self.other: dict[str, int] = {}

    def run(self):
        from benchmarks.api import declaration

        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Authorization": f"Api-Key {self.world['key']}", "Content-Type": "application/json"}
        n = 0
        while not self.stop.is_set():
            n += 1
            grn, code, _pk = self.rng.choice(self.world["targets"])
            ref = f"DRILL-{self.index}-{n}-{uuid.uuid4().hex[:6]}"
            body = json.dumps(declaration(ref=ref, grn=grn, code=code, amount=self.rng.randint(1, 1000),
                                          declared_at=self.declared_at))
            try:
                conn.request("POST", "/api/v1/transits", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status = type(exc).__name__
            if status == "201":
                self.accepted.append((time.monotonic(), ref))
            else:
                self.other[status] = self.other.get(status, 0) + 1
        conn.close()


def failover(primary: Primary, standby: Standby, bouncer: PgBouncer, world: dict, work: Path) -> dict:
    from django.conf import settings

    from benchmarks.api import Gunicorn, free_port

    port = free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "0",
        "DATABASE_URL": url(PGBOUNCER_PORT, DATABASE), "DB_PREPARED_STATEMENTS": "0", "DB_CONN_MAX_AGE": "600",
        "ALLOWED_HOSTS": HOST, "API_THROTTLE_API_KEY": "1000000000/s", "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REPORTING_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    server = Gunicorn(port=port, workers=2, worker_class="sync", threads=1, env=env, log_path=work / "gunicorn.log")
    stop = threading.Event()
    clients = [Declarer(i, port, world, stop) for i in range(4)]
    try:
        server.start(key=world["key"])
        for client in clients:
            client.start()
        time.sleep(6)
        say("failover: PAUSE in PgBouncer, the old primary fenced off for the drill database, the standby promoted")
        switch_started = time.monotonic()
        bouncer.admin(f"PAUSE {DATABASE}")
        paused_at = time.monotonic()
        primary.fence(DATABASE)
        promoted_in = standby.promote()
        # The old primary waits for no standby any more (nothing of the drill commits there now).
        primary.synchronous(False)
        bouncer.write(drill_port=STANDBY_PORT)
        bouncer.admin("RELOAD")
        bouncer.admin(f"RESUME {DATABASE}")
        switched_at = time.monotonic()
        say(f"failover: PgBouncer points at the new primary ({switched_at - switch_started:.2f} s after PAUSE)")
        time.sleep(6)
    finally:
        stop.set()
        for client in clients:
            if client.is_alive():
                client.join(90)
        server.stop()
    accepted = [entry for client in clients for entry in client.accepted]
    other: dict[str, int] = {}
    for client in clients:
        for status, count in client.other.items():
            other[status] = other.get(status, 0) + count
    refs = [ref for _at, ref in accepted]
    found = {row[0] for row in sql(STANDBY_PORT, DATABASE,
                                   "SELECT declaration_ref FROM guarantees_transit WHERE declaration_ref LIKE 'DRILL-%'")}
    missing = sorted(set(refs) - found)
    env_verify = {**os.environ, "DATABASE_URL": url(STANDBY_PORT, DATABASE),
                  "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": settings.SECRET_KEY}
    env_verify.pop("REPORTING_DATABASE_URL", None)
    verified = run(ROOT / ".venv" / "bin" / "python", "manage.py", "verify_ledger", check=False, env=env_verify,
                   cwd=ROOT)
    return {
        "answered_201": len(refs),
        "answered_201_before_pause": sum(1 for at, _ref in accepted if at < paused_at),
        "answered_201_after_switch": sum(1 for at, _ref in accepted if at >= switched_at),
        "other_answers": other,
        "on_new_primary": len(set(refs) & found),
        "missing_on_new_primary": missing[:20],
        "transits_on_new_primary_not_answered_201": len(found - set(refs)),
        "promotion_seconds": round(promoted_in, 3),
        "pause_to_resume_seconds": round(switched_at - switch_started, 3),
        "verify_ledger_on_new_primary": verified.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cleanup-only", action="store_true", help="Remove what an interrupted drill left.")
    parser.add_argument("--skip-api-tests", action="store_true", help="Do not run tests/guarantees/api through PgBouncer.")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("The drill drives Debian's cluster tools: run it as root.", file=sys.stderr)
        return 2

    # SIGTERM or SIGHUP (a closed terminal, a CI timeout) unwinds like Ctrl-C, through the clean-up below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: sys.exit(128 + number))
    primary = Primary()
    standby = Standby(primary.version)
    if args.cleanup_only:
        standby.drop()
        print(json.dumps(primary.restore(), indent=2))
        return 0
    if standby.exists():
        print(f"A cluster {primary.version}/{CLUSTER} exists: run deploy/drill --cleanup-only first.", file=sys.stderr)
        return 2
    if one(PRIMARY_PORT, "postgres", "SHOW synchronous_standby_names"):
        print("synchronous_standby_names is already set on the primary: not touching it.", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="caution-drill-"))
    os.chmod(work, 0o755)
    bouncer: PgBouncer | None = None
    summary: dict = {"started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    failed = False
    try:
        django_setup()
        say(f"primary {HOST}:{PRIMARY_PORT} (PostgreSQL {primary.version}); preparing database {DATABASE}")
        world = prepare_drill_database()
        from django.db import connections

        connections.close_all()

        primary.allow_replication()
        say("standby: pg_createcluster, pg_basebackup with the replication slot, start")
        summary["standby_created_seconds"] = round(standby.create(), 1)
        summary["replication"] = wait_streaming()
        sql(PRIMARY_PORT, DATABASE, "CREATE TABLE drill_probe (at timestamptz DEFAULT now(), note text)")
        sql(PRIMARY_PORT, DATABASE, "INSERT INTO drill_probe (note) VALUES ('written on the primary')")
        summary["replication"]["first_replay_seconds"] = round(wait_replayed(), 4)
        summary["replication"]["probe_read_on_standby"] = one(STANDBY_PORT, DATABASE, "SELECT note FROM drill_probe")
        summary["replication"]["slot"] = sql(PRIMARY_PORT, "postgres",
                                             f"SELECT slot_name, active FROM pg_replication_slots "
                                             f"WHERE slot_name = '{SLOT}'")
        say(f"replication: {summary['replication']}")

        say("reporting alias on the standby")
        summary["reporting"] = show_reporting(world)
        connections.close_all()
        say(f"reporting: {json.dumps(summary['reporting'])}")

        bouncer = PgBouncer(work / "pgbouncer")
        bouncer.start()
        if not args.skip_api_tests:
            say("tests/guarantees/api through PgBouncer (transaction mode, DB_PREPARED_STATEMENTS=0)")
            summary["api_tests_through_pgbouncer"] = api_tests_through_pgbouncer()
            summary["api_tests_through_pgbouncer"]["pgbouncer_transactions"] = pgbouncer_transactions(
                bouncer, f"test_{API_TEST_DATABASE}")
            if summary["api_tests_through_pgbouncer"]["exit_code"] != 0:
                failed = True
            say(f"tests/guarantees/api: {summary['api_tests_through_pgbouncer']['summary']}")

        say("cost of synchronous replication: benchmark holds --clients 8 --seconds 10, asynchronous then synchronous")
        # Interleaved, twice each: the machine is shared, and whatever else runs weighs on both alike.
        runs: dict[str, list] = {"asynchronous": [], "synchronous": []}
        for _round in range(2):
            primary.synchronous(False)
            runs["asynchronous"].append(_holds_summary(benchmark_holds("asynchronous standby")))
            primary.synchronous(True)
            summary["replication"]["sync_state_after"] = wait_streaming()["sync_state"]
            runs["synchronous"].append(_holds_summary(benchmark_holds("synchronous standby")))
        summary["commit_latency_one_connection"] = commit_latency()
        say(f"commit latency: {json.dumps(summary['commit_latency_one_connection'])}")
        summary["benchmark_holds"] = {mode: {"runs": results, "mean_service_throughput_per_s": round(
            sum(r["service"]["throughput_per_s"] for r in results) / len(results), 1), "mean_service_p50_ms": round(
            sum(r["service"]["p50_ms"] for r in results) / len(results), 1)} for mode, results in runs.items()}

        say("failover with declarations flowing through gunicorn and PgBouncer")
        summary["failover"] = failover(primary, standby, bouncer, world, work)
        say(f"failover: {json.dumps(summary['failover'])}")
        if summary["failover"]["missing_on_new_primary"] or not summary["failover"]["answered_201"]:
            failed = True
    except Exception as exc:  # noqa: BLE001 - reported, then everything is cleaned up
        failed = True
        summary["error"] = f"{type(exc).__name__}: {exc}"
        say(f"FAILED: {summary['error']}")
    finally:
        say("clean-up: PgBouncer stopped, standby dropped, the primary's configuration put back")
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if bouncer is not None:
            bouncer.stop()
        standby.drop()
        summary["primary_after"] = primary.restore()
        shutil.rmtree(work, ignore_errors=True)
    after = summary["primary_after"]
    if after["synchronous_standby_names"] or SLOT in after["replication_slots"] or not (
            after["pg_hba_as_before"] and after["auto_conf_as_before"]):
        failed = True
    print(json.dumps(summary, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
