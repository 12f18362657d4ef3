"""What every benchmark shares: the PostgreSQL it runs on, the clients it runs (threads or processes), and
how it counts (latency percentiles, one JSON object on stdout).

A benchmark phase is ``run_phase(ClientClass, ...)``: ``clients`` instances of the class, each built in its own
thread or process (so each opens its own database connection), all released at the same moment by a barrier,
each calling ``op(i)`` in a loop for ``seconds`` and timing every call with ``time.perf_counter``.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import secrets
import threading
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/caution_bench"
POSTGRES_ENGINE = "django.db.backends.postgresql"
OK = "ok"
CONCURRENCY_MODES = ("processes", "threads")
# Settings keys Django's PostgreSQL backend reads itself; the rest of OPTIONS are libpq parameters.
_DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "assume_role", "pool", "cursor_factory"}
_BARRIER_TIMEOUT = 300


# --- Database ------------------------------------------------------------------------------------


class BenchmarkError(Exception):
    """The benchmark cannot run as asked (wrong database, a client could not start...)."""


def add_database_arguments(parser) -> None:
    group = parser.add_argument_group("database")
    group.add_argument(
        "--database-url",
        help=(
            "PostgreSQL server to run on, and the name the run's database starts with. Default: the "
            f"DATABASE_URL environment variable, else {DEFAULT_DATABASE_URL}. Each run creates its own database "
            "on that server (<name>_bench_<run id>), migrates it, runs there and drops it at the end, also after "
            "an error or Ctrl-C: the database named in the URL is never opened. SQLite is refused."
        ),
    )
    group.add_argument(
        "--keep", action="store_true",
        help="Keep the run's database at the end, for inspection (its name is in the result; drop it yourself).",
    )


def own_database_name(base: str, run: str) -> str:
    """``<base>_bench_<run>``, shortened to PostgreSQL's 63 bytes by the base name."""
    suffix = f"_bench_{run}"
    room = 63 - len(suffix.encode())
    while len(base.encode()) > room:
        base = base[:-1]
    return f"{base}{suffix}"


@contextmanager
def benchmark_database(*, database_url: str | None, keep: bool = False, log=print):
    """A fresh, migrated database of this run's own on the server of ``database_url`` (else DATABASE_URL, else
    the default). Django's default connection points at it meanwhile, and so do the client processes forked
    from this one and the subprocesses given ``connections["default"].settings_dict``. Yields that dict.
    At the end the connection goes back to what it was and the database is dropped, whatever happened, unless
    ``keep``."""
    from django.core.management import call_command
    from django.db import connections

    base = parse_database_url(database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if _event_loop_running():
        raise BenchmarkError(
            "An asyncio event loop runs in this thread: Django then keeps its connections where forked client "
            "processes do not look, and they would reach another database than the benchmark's own. Run the "
            "benchmark from plain synchronous code."
        )
    if connections["default"].in_atomic_block:
        raise BenchmarkError(
            "The default connection is inside a transaction: the benchmark would have to close it to use its own "
            "database (use transaction=True in tests)."
        )
    db = {**base, "NAME": own_database_name(base["NAME"], secrets.token_hex(4))}
    owner = os.getpid()
    saved = connections["default"].settings_dict
    create_database(db, log=log)
    try:
        use_database(db)
        log(f"migrating {db['NAME']}...")
        call_command("migrate", interactive=False, verbosity=0)
        yield connections["default"].settings_dict
    finally:
        # A forked client unwinding through here (multiprocessing ends them with os._exit, but a stray one) must
        # not take the database from under its parent.
        if os.getpid() == owner:
            _point_default_at(saved)  # the very dict it was: whoever holds it (a test runner) finds it unchanged
            if keep:
                log(f"kept the database {db['NAME']} (dropdb {db['NAME']} when done)")
            else:
                drop_database(db, log=log)


@contextmanager
def seeded_database(*, name: str, database_url: str | None, log=print):
    """The existing database ``name`` (filled by ``manage.py seed_scale`` and kept) on the server of
    ``database_url`` (else DATABASE_URL, else the default): Django's default connection points at it meanwhile.
    Neither created, migrated nor dropped."""
    from django.db import connections

    base = parse_database_url(database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    db = {**base, "NAME": name}
    saved = connections["default"].settings_dict
    log(f"running on the seeded database {name}")
    try:
        use_database(db)
        connections["default"].ensure_connection()
        yield connections["default"].settings_dict
    except Exception as exc:
        if type(exc).__module__.startswith(("psycopg", "django.db")):
            raise BenchmarkError(f"Cannot use the seeded database {name!r}: {exc}") from exc
        raise
    finally:
        _point_default_at(saved)


def _event_loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def parse_database_url(url: str) -> dict:
    import dj_database_url

    try:
        db = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's URL
        raise BenchmarkError(f"Cannot read the database URL {url!r}: {exc}") from exc
    if db.get("ENGINE") != POSTGRES_ENGINE:
        engine = db.get("ENGINE", "?").rsplit(".", 1)[-1]
        raise BenchmarkError(
            f"Refusing to benchmark on {engine}: the benchmark measures concurrent row locks and runs on "
            "PostgreSQL only. Set DATABASE_URL or --database-url to postgres://..., "
            f"e.g. {DEFAULT_DATABASE_URL}."
        )
    if not db.get("NAME"):
        raise BenchmarkError(f"The database URL {url!r} names no database.")
    return db


def psycopg_params(db: dict) -> dict:
    """Keyword arguments for ``psycopg.connect`` reaching the database of a Django settings dict."""
    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    params.update({k: v for k, v in (db.get("OPTIONS") or {}).items() if k not in _DJANGO_ONLY_OPTIONS})
    return {k: v for k, v in params.items() if v not in (None, "")}


def _maintenance_connection(db: dict):
    import psycopg

    params = psycopg_params(db)
    params.pop("dbname", None)
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def create_database(db: dict, *, log=print) -> None:
    """Create the database ``db`` names, which must not exist yet. From template0, to which nobody connects:
    a session on template1 would make the creation fail."""
    import psycopg
    from psycopg import sql

    log(f"creating database {db['NAME']}...")
    try:
        with _maintenance_connection(db) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(db["NAME"])))
    except psycopg.Error as exc:
        raise BenchmarkError(
            f"Cannot reach the PostgreSQL server or create the database {db['NAME']!r}: {exc}"
        ) from exc


def drop_database(db: dict, *, log=print) -> None:
    """Drop the run's database, ending any session still on it (a client or worker that outlived the run)."""
    import psycopg
    from psycopg import sql

    try:
        with _maintenance_connection(db) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db["NAME"])))
    except psycopg.Error as exc:
        log(f"could not drop the database {db['NAME']}: {exc}; drop it by hand")
        return
    log(f"dropped the database {db['NAME']}")


def use_database(db: dict) -> None:
    """Make ``db`` Django's default database in this process from now on (and in the processes it forks)."""
    from django.db import connections

    _point_default_at(connections.configure_settings({"default": dict(db)})["default"])


def _point_default_at(configured: dict) -> None:
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    # connections.settings is settings.DATABASES itself: replacing the entry repoints new connections. The
    # reports' alias follows unless REPORTING_DATABASE_URL points it elsewhere (a standby of its own).
    aliases = ["default"]
    if "reporting" in settings.DATABASES and not getattr(settings, "REPORTING_DATABASE_URL", ""):
        aliases.append("reporting")
    for alias in aliases:
        settings.DATABASES[alias] = {**configured, "TEST": {"MIRROR": "default"}} if alias != "default" else configured
        connections.settings[alias] = settings.DATABASES[alias]
        try:
            del connections[alias]
        except AttributeError:
            pass


# --- Counting ------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """The ``pct`` percentile (0-100) of already sorted values, interpolating linearly between ranks."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@dataclass
class PhaseResult:
    clients: int
    concurrency: str
    elapsed: float
    outcomes: Counter = field(default_factory=Counter)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, sorted; every call that did not raise
    error_samples: list[str] = field(default_factory=list)

    @property
    def ops(self) -> int:
        return self.outcomes.get(OK, 0)

    @property
    def throughput(self) -> float:
        return self.ops / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> dict:
        result = {
            "ops": self.ops,
            "throughput_per_s": round(self.throughput, 1),
            "p50_ms": _ms(percentile(self.latencies, 50)),
            "p99_ms": _ms(percentile(self.latencies, 99)),
            "errors": self.errors,
        }
        others = {k: v for k, v in sorted(self.outcomes.items()) if k != OK}
        if others:
            result.update(others)
        if self.error_samples:
            result["error_samples"] = self.error_samples[:3]
        return result


def combine(results: list[PhaseResult]) -> PhaseResult:
    """One result out of several slices of the same phase (elapsed times add up)."""
    first = results[0]
    combined = PhaseResult(clients=first.clients, concurrency=first.concurrency, elapsed=0.0)
    for r in results:
        combined.elapsed += r.elapsed
        combined.outcomes.update(r.outcomes)
        combined.errors += r.errors
        combined.latencies.extend(r.latencies)
        combined.error_samples.extend(r.error_samples)
    combined.latencies.sort()
    return combined


def host_load() -> dict:
    """What else the machine was doing: a benchmark on a shared box is only as good as this."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return {"cpus": os.cpu_count()}
    return {"cpus": os.cpu_count(), "load_1m": round(one, 2), "load_5m": round(five, 2)}


def process_cpu_seconds(match) -> float | None:
    """User + system CPU seconds used so far by the live processes for which ``match(pid, name)`` is true
    (Linux ``/proc``; ``None`` elsewhere). Processes that ended in between are not counted: sample around a
    phase whose processes live through it (gunicorn's workers, their database sessions)."""
    proc = "/proc"
    if not os.path.isdir(proc):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(f"{proc}/{pid}/comm") as f:
                name = f.read().strip()
            with open(f"{proc}/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if match(int(pid), name):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def cpu_ticks_by_process() -> dict[tuple[int, int], tuple[str, int, int, int]] | None:
    """Every process of the machine: ``(pid, start time) -> (name, parent pid, own CPU, CPU of its children it
    has waited for)``, user + system in clock ticks (Linux ``/proc``; ``None`` elsewhere). Two of these, before
    and after, give what each process used in between (``cpu_seconds_between``)."""
    if not os.path.isdir("/proc"):
        return None
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        head, _, tail = text.rpartition(")")
        name = head.partition("(")[2]
        if name in ("postgres", "postmaster"):
            # PostgreSQL names its processes in their command line: "postgres: 15/main: checkpointer", a session
            # "postgres: 15/main: postgres caution 127.0.0.1(51234) idle".
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    name = f.read().replace(b"\0", b" ").decode(errors="replace").strip() or name
            except OSError:
                pass
        fields = tail.split()
        # fields[0] is the state: ppid [1], utime [11], stime [12], cutime [13], cstime [14], starttime [19].
        out[(int(pid), int(fields[19]))] = (name, int(fields[1]), int(fields[11]) + int(fields[12]),
                                            int(fields[13]) + int(fields[14]))
    return out


def host_busy_ticks() -> tuple[int, int] | None:
    """``(busy, total)`` clock ticks of all CPUs since boot (``/proc/stat``: idle and iowait are not busy)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - values[3] - values[4], total


def cpu_seconds_between(before: dict, after: dict, classify, reaped=None) -> dict[str, float]:
    """CPU seconds used between two ``cpu_ticks_by_process`` readings, summed by ``classify(pid, name, ppid)``
    (a class name, or ``None`` to leave the process out). A process started in between counts in full; one that
    ended in between counts only where its parent waited for it (gunicorn's master for a recycled worker), in the
    class ``reaped(pid, name, ppid)`` gives that parent's waited-for children (default: the parent's own), less
    what it had used before the first reading."""
    ticks = os.sysconf("SC_CLK_TCK")
    sums: dict[str, int] = {}
    alive = {pid: (pid, start, *values) for (pid, start), values in after.items()}
    for key, (_name, ppid, own, waited) in before.items():
        if key in after or ppid not in alive:
            continue
        parent_pid, _start, parent_name, parent_ppid, _own, _waited = alive[ppid]
        kind = (reaped or classify)(parent_pid, parent_name, parent_ppid)
        if kind is not None:
            sums[kind] = sums.get(kind, 0) - own - waited
    for key, (name, ppid, own, waited) in after.items():
        kind = classify(key[0], name, ppid)
        children_kind = reaped(key[0], name, ppid) if reaped is not None else kind
        _n, _p, own_before, waited_before = before.get(key, (name, ppid, 0, 0))
        if kind is not None:
            sums[kind] = sums.get(kind, 0) + (own - own_before)
        if children_kind is not None:
            sums[children_kind] = sums.get(children_kind, 0) + (waited - waited_before)
    return {kind: round(value / ticks, 2) for kind, value in sorted(sums.items())}


_POSTGRES_NAMES = ("postgres", "postmaster")


def _postgres_cpu_ticks(pid: int) -> tuple[int, int] | None:
    """(start time, user + system CPU) of a PostgreSQL process of this machine, in clock ticks; None when no
    such process runs here."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if name not in _POSTGRES_NAMES:
        return None
    return int(fields[19]), int(fields[11]) + int(fields[12])  # starttime; utime + stime


class BackendCpu:
    """The CPU used by the PostgreSQL backends serving one database, read from ``/proc`` by pid.

    The benchmark's database is its own, so its backends (``pg_stat_activity.datname``) are the benchmark's
    sessions, plus autovacuum's work on its tables; no other program's, whatever it does on the same cluster.
    Summing every postgres process instead counted others' work, and went negative when another program's
    session ended between two samples. ``sample()`` around a phase, then ``seconds(before, after)``.
    ``None`` when PostgreSQL does not run on this machine (its pids are not ours to read)."""

    def __init__(self, db: dict):
        import psycopg

        self.conn = psycopg.connect(**psycopg_params(db), autocommit=True)
        own = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.local = os.path.isdir("/proc") and _postgres_cpu_ticks(own) is not None

    def sample(self) -> dict[int, tuple[int, int]] | None:
        if not self.local:
            return None
        # Autocommit: each query sees pg_stat_activity afresh (a transaction would keep its first snapshot).
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        ticks = {pid: _postgres_cpu_ticks(pid) for (pid,) in rows}
        return {pid: t for pid, t in ticks.items() if t is not None}

    @staticmethod
    def seconds(before: dict | None, after: dict | None) -> float | None:
        """CPU seconds between two samples. A backend seen at both counts its difference; one that began in
        between counts whole (all its CPU is in between); one that ended in between cannot be read any more
        (keep sessions open through a phase: gunicorn's persistent connections do)."""
        if before is None or after is None:
            return None
        used = 0
        for pid, (started, ticks) in after.items():
            earlier = before.get(pid)
            used += ticks - earlier[1] if earlier is not None and earlier[0] == started else ticks
        return used / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.conn.close()


def dumps(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, sort_keys=False)


# --- Running clients -----------------------------------------------------------------------------


class Client:
    """One simulated client. Built inside its own thread or process; ``op`` returns an outcome (``OK`` counts
    as one operation, any other string is counted apart, e.g. a refusal) or raises (counted as an error)."""

    def __init__(self, index: int, params: dict):
        self.index = index
        self.params = params

    def op(self, i: int) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _client_loop(client_cls, index: int, params: dict, seconds: float, barrier) -> dict:
    from django.db import connections

    latencies: list[float] = []
    outcomes: Counter = Counter()
    errors = 0
    samples: list[str] = []
    started = finished = None
    setup_error = None
    client = None
    try:
        client = client_cls(index, params)
        barrier.wait(_BARRIER_TIMEOUT)
        perf = time.perf_counter
        started = time.monotonic()
        deadline = started + seconds
        i = 0
        while time.monotonic() < deadline:
            t0 = perf()
            try:
                outcome = client.op(i)
            except Exception as exc:  # noqa: BLE001 - an error is a result here
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                latencies.append(perf() - t0)
                outcomes[outcome] += 1
            i += 1
        finished = time.monotonic()
    except BaseException:  # noqa: BLE001 - reported to the parent
        setup_error = traceback.format_exc(limit=6)
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass
        connections.close_all()
    return {
        "latencies": latencies, "outcomes": dict(outcomes), "errors": errors, "error_samples": samples,
        "started": started, "finished": finished, "setup_error": setup_error,
    }


def child_signals() -> None:
    """A client process forked from the command takes back the default SIGTERM and SIGHUP: the command's own
    handlers unwind the run (and drop its database), which is the parent's business."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _process_main(queue, client_cls, index, params, seconds, barrier, db_settings) -> None:
    import django
    from django.apps import apps

    child_signals()
    if not apps.ready:  # spawned, not forked: set Django up and point it at the benchmark database
        django.setup()
        use_database(db_settings)
    else:
        _forget_inherited_connections()
    queue.put(_client_loop(client_cls, index, params, seconds, barrier))


# Connections a forked child inherited from its parent: kept referenced so they are never closed (closing one
# would end the parent's session on the shared socket) and never used (two processes on one socket corrupt both).
_INHERITED_CONNECTIONS: list = []


def _forget_inherited_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _INHERITED_CONNECTIONS.append(conn.connection)
            conn.connection = None


def _start_method() -> str:
    # fork: children inherit Django, set up and pointed at the benchmark database; spawn elsewhere.
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def run_phase(client_cls, *, clients: int, seconds: float, concurrency: str, params: dict,
              db_settings: dict | None = None) -> PhaseResult:
    """Run ``clients`` instances of ``client_cls`` for ``seconds``, concurrently, and gather what they saw."""
    from django.db import connections

    if concurrency not in CONCURRENCY_MODES:
        raise ValueError(concurrency)
    if db_settings is None:
        db_settings = dict(connections["default"].settings_dict)
    # No connection may cross into a child process or outlive the phase in this thread.
    connections.close_all()
    raw: list[dict] = []

    if concurrency == "threads":
        barrier = threading.Barrier(clients + 1)
        slots: list[dict | None] = [None] * clients

        def target(idx):
            slots[idx] = _client_loop(client_cls, idx, params, seconds, barrier)

        workers = [threading.Thread(target=target, args=(idx,), daemon=True) for idx in range(clients)]
        for w in workers:
            w.start()
        _release(barrier)
        for w in workers:
            w.join()
        raw = [r for r in slots if r is not None]
    else:
        ctx = multiprocessing.get_context(_start_method())
        barrier = ctx.Barrier(clients + 1)
        queue = ctx.Queue()
        workers = [
            ctx.Process(target=_process_main, args=(queue, client_cls, idx, params, seconds, barrier, db_settings),
                        daemon=True)
            for idx in range(clients)
        ]
        for w in workers:
            w.start()
        _release(barrier)
        for _ in workers:
            try:
                raw.append(queue.get(timeout=seconds + _BARRIER_TIMEOUT))
            except Exception:  # noqa: BLE001 - a child died without reporting
                break
        for w in workers:
            w.join(timeout=30)

    setup_errors = [r["setup_error"] for r in raw if r["setup_error"]]
    if setup_errors or len(raw) != clients:
        detail = setup_errors[0] if setup_errors else f"only {len(raw)} of {clients} clients reported"
        raise BenchmarkError(f"A benchmark client failed to run:\n{detail}")

    result = PhaseResult(
        clients=clients, concurrency=concurrency,
        elapsed=max(r["finished"] for r in raw) - min(r["started"] for r in raw),
    )
    for r in raw:
        result.outcomes.update(r["outcomes"])
        result.errors += r["errors"]
        result.latencies.extend(r["latencies"])
        result.error_samples.extend(r["error_samples"])
    result.latencies.sort()
    return result


def _release(barrier) -> None:
    try:
        barrier.wait(_BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:
        pass  # a client failed to start: reported with the results


# --- The parties every benchmark's guarantees belong to ------------------------------------------


def benchmark_parties():
    """The benchmark's country, user (who cannot sign in), forwarder and approved bank, created once per
    database: ``(country, user, forwarder, bank)``."""
    from accounts.models import Organisation, User
    from accounts.roles import OrganisationKind
    from guarantees.models import Bank, Country

    country, _ = Country.objects.get_or_create(
        code="BF", defaults={"name_fr": "Burkina Faso", "name_en": "Burkina Faso", "timezone": "Africa/Ouagadougou"}
    )
    user, created = User.objects.get_or_create(
        email="benchmark@caution-unique.invalid", defaults={"first_name": "Benchmark", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    forwarder, _ = Organisation.objects.get_or_create(
        kind=OrganisationKind.FORWARDER, name="Benchmark forwarder", defaults={"country": country.pk}
    )
    bank_org, _ = Organisation.objects.get_or_create(
        kind=OrganisationKind.BANK, name="Benchmark bank", defaults={"country": country.pk}
    )
    bank, _ = Bank.objects.get_or_create(organisation=bank_org, defaults={"exposure_ceiling": 0, "is_approved": True})
    return country, user, forwarder, bank
