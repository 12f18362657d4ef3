"""``benchmark releases``: from a discharge accepted to its hold released, with a real Celery worker; and the
throughput of a bulk file of discharges.

1. Setup: active guarantees and ``rate × seconds`` open transits, each with its hold and chained ledger entry
   (written in bulk, as the services would have: ``ledger_verify`` checks them at the end), and a Celery worker
   started on the run's own database and Redis (a worker already running never serves that database:
   ``--no-worker`` is refused).
   The worker runs beat, as production does (``--no-beat``: only the task of each event applies it).
2. Latency phase: ``--senders`` processes send discharges through ``transit_event_receive`` — what the API view
   calls — at ``--rate`` events per second in total (open loop: on schedule, whether or not the worker keeps
   up) for ``--seconds``. For each, the time from the event committed (the API would answer 202 then) to its
   hold released (``Hold.closed_at``, stamped in the worker's transaction); p50/p95/p99 over all.
3. File phase: a CSV of ``--file-lines`` discharges (default 100,000) is stored as a discharge file and given to
   the worker; throughput = lines / (time from the file stored to the last hold released). The batched path
   (``process_discharge_file_bulk``) by default; ``--file-path legacy`` measures ``process_discharge_file``
   (one ``transit_event_receive`` and one release task per line) on ``--legacy-lines`` lines.
4. Checks: every hold of the run released exactly once (one release entry each), ``ledger_verify`` clean.

Redis: ``--redis-url``, else a private ``redis-server`` the benchmark starts on a free port (so that no other
worker on the machine's Redis takes its messages), else ``DEFAULT_REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.common import BenchmarkError, host_load, percentile
from guarantees.csv_cells import csv_writer

HELP = "Discharge → hold released with a Celery worker (p50/p95/p99 at a rate), and a bulk file's throughput."

AIM = {"p95_ms": 2000, "file_per_s": 2000}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
HOLD_AMOUNT = 1_000
ROOT = Path(__file__).resolve().parent.parent
SENDER_COUNTRY, DEPARTURE_COUNTRY = "BF", "TG"
DEPARTURE, DESTINATION = "TGLOME", "BFOUAG"


def add_arguments(parser) -> None:
    parser.add_argument("--rate", type=float, default=200, help="Discharges per second, in total (default 200).")
    parser.add_argument("--seconds", type=float, default=60, help="Duration of the latency phase (default 60).")
    parser.add_argument("--senders", type=int, default=2, help="Processes sending discharges (default 2).")
    parser.add_argument("--guarantees", type=int, default=50, help="Guarantees the transits draw on (default 50).")
    parser.add_argument("--file-lines", type=int, default=100_000,
                        help="Discharges in the bulk file (default 100,000; 0 skips the file phase).")
    parser.add_argument("--file-path", choices=("bulk", "legacy", "both"), default="bulk",
                        help="The batched path (default), the line-by-line path, or both.")
    parser.add_argument("--legacy-lines", type=int, default=5_000,
                        help="Lines of the file given to the line-by-line path (default 5,000).")
    parser.add_argument("--redis-url", default=None,
                        help="Broker (default: a private redis-server on a free port, else "
                             f"{DEFAULT_REDIS_URL}).")
    parser.add_argument("--sweep-after", type=int, default=None,
                        help="Seconds after which the sweep applies an event no task applied yet (default: the "
                             "setting REGISTRY_EVENT_SWEEP_AFTER_SECONDS).")
    parser.add_argument("--no-beat", action="store_true",
                        help="No beat in the worker: only the task queued after each commit applies events.")
    parser.add_argument("--no-worker", action="store_true",
                        help="Refused: no worker already running can use the run's own database.")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Processes of the worker (default 2).")
    parser.add_argument("--timeout", type=float, default=600, help="Longest wait for the releases (default 600 s).")


# --- Celery: the broker of this process, and a worker process --------------------------------------------


@contextlib.contextmanager
def celery_broker(url: str, *, publish_retries: int | None = None):
    """Make this process queue tasks to ``url`` (not eagerly), whatever the settings; restore on exit."""
    from config.celery import app

    keys = ("broker_url", "task_always_eager", "task_publish_retry_policy")
    saved = {key: app.conf.get(key) for key in keys}
    policy = dict(app.conf.task_publish_retry_policy or {})
    if publish_retries is not None:
        policy["max_retries"] = publish_retries
    app.conf.update(broker_url=url, task_always_eager=False, task_publish_retry_policy=policy)
    _reset_pools(app)
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.update(saved)


def _reset_pools(app) -> None:
    # Only forget them: kombu keeps one pool per broker address for the whole process, and closing it would
    # leave a closed pool behind for the next user of that address.
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """``celery -A config worker`` in its own session (so that a SIGKILL reaches the whole pool), on the given
    database and broker, logging to a file; ``start`` returns once the worker is ready."""

    def __init__(self, *, database: str, broker: str, log_dir: Path, pool: str = "prefork", concurrency: int = 2,
                 beat: bool = False, queues: str = "releases,celery,bulk", env: dict | None = None,
                 settings_module: str = "config.settings.test"):
        self.database, self.broker, self.log_dir = database, broker, Path(log_dir)
        self.pool, self.concurrency, self.beat, self.queues = pool, concurrency, beat, queues
        self.extra_env = env or {}
        self.settings_module = settings_module
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.starts = 0

    def start(self, timeout: float = 40) -> WorkerProcess:
        self.starts += 1
        self.log_path = self.log_dir / f"worker-{self.starts}.log"
        env = {
            **os.environ, "DATABASE_URL": self.database, "REDIS_URL": self.broker,
            "DJANGO_SETTINGS_MODULE": self.settings_module, "PYTHONUNBUFFERED": "1", **self.extra_env,
        }
        env.pop("CELERY_BROKER_URL", None)
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={self.pool}",
            f"--concurrency={self.concurrency}", "-Q", self.queues, "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=INFO", "-n", f"bench-{uuid.uuid4().hex[:8]}@%h",
        ]
        if self.beat:
            command += ["--beat", "--schedule", str(self.log_dir / f"beat-{uuid.uuid4().hex[:8]}")]
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchmarkError(f"the Celery worker exited ({self.proc.returncode}):\n{self.log_tail()}")
            if " ready." in self.log_text():
                return self
            time.sleep(0.1)
        self.stop()
        raise BenchmarkError(f"the Celery worker did not start in {timeout:g} s:\n{self.log_tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL to the worker and every process of its pool, at once: nothing gets to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def private_redis(log_dir: Path):
    """A redis-server of the benchmark's own on a free port (yields its URL), stopped at the end."""
    import shutil
    import socket

    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(log_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


# --- Setup: guarantees and open transits, written in bulk -------------------------------------------------


def world(*, run: str) -> dict:
    """The organisations and offices the run needs (created if missing: the benchmark database may hold no
    reference data)."""
    from accounts.models import Organisation
    from accounts.roles import OrganisationKind
    from guarantees.models import Country, Office, OfficeRole

    zones = {"TG": ("Togo", "Africa/Lome"), "BF": ("Burkina Faso", "Africa/Ouagadougou")}
    countries = {}
    for code, (name, zone) in zones.items():
        countries[code], _ = Country.objects.get_or_create(
            code=code, defaults={"name_fr": name, "name_en": name, "timezone": zone}
        )
    offices = {}
    for code, country, role in ((DEPARTURE, "TG", OfficeRole.DEPARTURE), (DESTINATION, "BF", OfficeRole.DESTINATION)):
        offices[code], _ = Office.objects.get_or_create(
            code=code, defaults={"name": code, "country": countries[country], "role": role}
        )
    customs = {}
    for code in ("TG", "BF"):
        customs[code] = (
            Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=code).first()
            or Organisation.objects.create(kind=OrganisationKind.CUSTOMS, name=f"Douanes {code}",
                                           country=code)
        )
    return {"offices": offices, "customs": customs}


def create_open_transits(*, run: str, guarantee_ids: list[int], count: int, amount: int = HOLD_AMOUNT,
                         places: dict | None = None, prefix: str = "") -> list[tuple[int, str, int]]:
    """``count`` declared transits Lomé → Ouagadougou spread over the guarantees, each with its hold and its
    chained HOLD entry; returns ``[(transit_id, declaration_ref, hold_id)]``."""
    from django.db import transaction
    from django.utils import timezone

    from guarantees.models import (
        AmountSource,
        EntryKind,
        Guarantee,
        Hold,
        LedgerEntry,
        StopRole,
        Transit,
        TransitStop,
    )
    from guarantees.services.ledger import ledger_entry

    places = places or world(run=run)
    departure, destination = places["offices"][DEPARTURE], places["offices"][DESTINATION]
    sender = places["customs"][DEPARTURE_COUNTRY]
    now = timezone.now()
    created: list[tuple[int, str, int]] = []
    step = 5000
    for start in range(0, count, step):
        size = min(step, count - start)
        refs = [f"{prefix}BENCH-{run}-{start + i:07d}" for i in range(size)]
        with transaction.atomic():
            guarantees = {g.pk: g for g in Guarantee.objects.select_for_update().filter(pk__in=guarantee_ids)}
            owners = [guarantee_ids[(start + i) % len(guarantee_ids)] for i in range(size)]
            holds = Hold.objects.bulk_create(
                [Hold(guarantee_id=g, reference=ref, initial_amount=amount, amount=amount)
                 for g, ref in zip(owners, refs, strict=True)],
                batch_size=2000,
            )
            entries = []
            for hold in holds:
                g = guarantees[hold.guarantee_id]
                seq = g.ledger_seq + 1
                entry = ledger_entry(guarantee_id=g.pk, seq=seq, prev_hash=g.ledger_hash, kind=EntryKind.HOLD,
                                     d_held=amount, hold_id=hold.pk, reference=hold.reference, created_at=now)
                entries.append(entry.model())
                g.ledger_seq, g.ledger_hash, g.held = seq, entry.hash, g.held + amount
            LedgerEntry.objects.bulk_create(entries, batch_size=2000)
            Guarantee.objects.bulk_update(list(guarantees.values()), ["ledger_seq", "ledger_hash", "held"])
            transits = Transit.objects.bulk_create(
                [
                    Transit(declaration_ref=hold.reference, guarantee_id=hold.guarantee_id, hold=hold,
                            office_of_departure=departure, office_of_destination=destination,
                            declared_at=now - datetime.timedelta(hours=1), deadline=now + datetime.timedelta(days=5),
                            amount_held=amount, amount_source=AmountSource.DECLARED, content_hash="benchmark",
                            declared_by=sender)
                    for hold in holds
                ],
                batch_size=2000,
            )
            TransitStop.objects.bulk_create(
                [
                    stop
                    for t in transits
                    for stop in (
                        TransitStop(transit=t, position=0, office=departure, country_id=departure.country_id,
                                    role=StopRole.DEPARTURE),
                        TransitStop(transit=t, position=1, office=destination, country_id=destination.country_id,
                                    role=StopRole.DESTINATION),
                    )
                ],
                batch_size=4000,
            )
        created += [(t.pk, t.declaration_ref, t.hold_id) for t in transits]
    return created


def discharge(ref: str, *, message_id: str, at: datetime.datetime | None = None) -> dict:
    from django.utils import timezone

    return {"message_id": message_id, "declaration_ref": ref, "type": "discharge", "office": DESTINATION,
            "occurred_at": (at or timezone.now()).isoformat()}


def discharges_csv(refs: list[str], *, run: str) -> bytes:
    from django.utils import timezone

    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["message_id", "declaration_ref", "type", "office", "occurred_at", "amount_released"])
    at = timezone.now().isoformat()
    for i, ref in enumerate(refs):
        writer.writerow([f"FILE-{run}-{i:07d}", ref, "discharge", DESTINATION, at, ""])
    return out.getvalue().encode()


# --- Measuring ---------------------------------------------------------------------------------------------


def _sender_main(queue, index: int, senders: int, refs: list[str], rate: float, start_at: float, run: str,
                 sender_id: int, db_settings: dict | None, broker: str) -> None:
    """One sending process: its share of the refs, on schedule (open loop)."""
    import django
    from django.apps import apps

    from benchmarks.common import child_signals

    child_signals()
    if not apps.ready:
        django.setup()
    if db_settings is not None:
        from benchmarks.common import use_database

        use_database(db_settings)
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Organisation
    from guarantees.services.events import transit_event_receive

    accepted: dict[str, float] = {}
    errors: list[str] = []
    late = 0.0
    with celery_broker(broker):
        sender = Organisation.objects.get(pk=sender_id)
        interval = senders / rate
        for n, ref in enumerate(refs[index::senders]):
            due = start_at + index / rate + n * interval
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            else:
                late = max(late, -wait)
            try:
                transit_event_receive(sender=sender, data=discharge(ref, message_id=f"LAT-{run}-{ref}"))
            except Exception as exc:  # noqa: BLE001 - counted
                if len(errors) < 3:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            accepted[ref] = timezone.now().timestamp()
    connections.close_all()
    queue.put({"accepted": accepted, "errors": errors, "late_s": late})


def _wait_released(hold_ids: list[int], *, timeout: float, log) -> tuple[int, float]:
    from guarantees.models import Hold, HoldStatus

    deadline = time.monotonic() + timeout
    remaining = len(hold_ids)
    while time.monotonic() < deadline:
        released = Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.RELEASED).count()
        remaining = len(hold_ids) - released
        if remaining == 0:
            return 0, time.time()
        time.sleep(0.2)
    log(f"timeout: {remaining} hold(s) still held")
    return remaining, time.time()


def _released_at(hold_ids: list[int]) -> dict[int, float]:
    from guarantees.models import Hold

    out: dict[int, float] = {}
    for start in range(0, len(hold_ids), 10000):
        for pk, closed_at in Hold.objects.filter(pk__in=hold_ids[start:start + 10000], closed_at__isnull=False) \
                .values_list("pk", "closed_at"):
            out[pk] = closed_at.timestamp()
    return out


def latency_phase(*, run: str, transits: list[tuple[int, str, int]], rate: float, senders: int, broker: str,
                  sender_id: int, timeout: float, log) -> dict:
    from django.db import connections

    refs = [ref for _pk, ref, _hold in transits]
    hold_of = {ref: hold for _pk, ref, hold in transits}
    db_settings = dict(connections["default"].settings_dict)
    connections.close_all()
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    queue = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [
        ctx.Process(target=_sender_main, args=(queue, i, senders, refs, rate, start_at, run, sender_id,
                                               None if ctx.get_start_method() == "fork" else db_settings, broker),
                    daemon=True)
        for i in range(senders)
    ]
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        try:
            results.append(queue.get(timeout=len(refs) / rate + 300))
        except Exception:  # noqa: BLE001
            break
    for p in procs:
        p.join(timeout=30)
    if len(results) != senders:
        raise BenchmarkError(f"only {len(results)} of {senders} sender processes reported")
    accepted: dict[str, float] = {}
    errors: list[str] = []
    for r in results:
        accepted.update(r["accepted"])
        errors += r["errors"]
    sent_for = max(accepted.values()) - start_at if accepted else 0.0
    log(f"run {run}: {len(accepted)} discharges accepted in {sent_for:.1f} s; waiting for the releases...")
    hold_ids = [hold_of[ref] for ref in accepted]
    remaining, _ = _wait_released(hold_ids, timeout=timeout, log=log)
    released = _released_at(hold_ids)
    latencies = sorted(max(0.0, released[hold_of[ref]] - at) for ref, at in accepted.items() if hold_of[ref] in released)

    def ms(value):
        return None if value is None else round(value * 1000, 1)

    return {
        "rate_asked": rate,
        "rate_achieved": round(len(accepted) / sent_for, 1) if sent_for > 0 else None,
        "sent": len(refs),
        "accepted": len(accepted),
        "released": len(latencies),
        "not_released": remaining,
        "send_errors": len(refs) - len(accepted),
        "error_samples": errors[:3],
        "late_senders_max_s": round(max(r["late_s"] for r in results), 3),
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else None),
    }


def file_phase(*, run: str, transits: list[tuple[int, str, int]], path: str, sender, timeout: float, log) -> dict:
    from guarantees.models import DischargeFile, JobStatus
    from guarantees.tasks import process_discharge_file, process_discharge_file_bulk

    refs = [ref for _pk, ref, _hold in transits]
    hold_ids = [hold for _pk, _ref, hold in transits]
    content = discharges_csv(refs, run=f"{run}-{path}")
    t0 = time.time()
    job = DischargeFile.objects.create(sender=sender, filename=f"bench-{run}-{path}.csv", format="csv",
                                       content=content)
    (process_discharge_file_bulk if path == "bulk" else process_discharge_file).delay(job.pk)
    remaining, finished = _wait_released(hold_ids, timeout=timeout, log=log)
    elapsed = finished - t0
    job.refresh_from_db()
    processed = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None
    log(f"run {run}: file ({path}) of {len(refs)} lines: {elapsed:.1f} s to the last release")
    return {
        "path": path,
        "lines": len(refs),
        "job_status": job.status,
        "accepted": job.done,
        "refused": job.failed,
        "seconds_to_last_release": round(elapsed, 2),
        "throughput_per_s": round(len(refs) / elapsed, 1) if elapsed > 0 and not remaining else None,
        "seconds_file_processed": round(processed, 2) if processed else None,
        "not_released": remaining,
        "done": job.status == JobStatus.DONE,
    }


def check(run: str, guarantee_ids: list[int], hold_ids: list[int]) -> dict:
    from django.db.models import Count, F

    from guarantees.models import EntryKind, Guarantee, LedgerEntry
    from guarantees.services.ledger import ledger_verify

    releases = LedgerEntry.objects.filter(hold_id__in=hold_ids, kind=EntryKind.RELEASE).values("hold_id") \
        .annotate(n=Count("id"))
    twice = sum(1 for r in releases if r["n"] != 1)
    guarantees = Guarantee.objects.filter(pk__in=guarantee_ids)
    return {
        "holds": len(hold_ids),
        "released_twice": twice,
        "overdraws": guarantees.filter(amount__lt=F("held") + F("claimed") + F("paid")).count(),
        "ledger_problems": len(ledger_verify(guarantees=guarantees)),
    }


def run(options: dict, *, log=print) -> dict:
    log_dir = Path(os.environ.get("BENCHMARK_LOG_DIR") or "/tmp") / f"benchmark-releases-{secrets.token_hex(4)}"
    log_dir.mkdir(parents=True, exist_ok=True)
    if options.get("redis_url"):
        return _run(options, broker=options["redis_url"], log_dir=log_dir, log=log)
    with private_redis(log_dir) as url:
        return _run(options, broker=url or DEFAULT_REDIS_URL, log_dir=log_dir, log=log)


def _run(options: dict, *, broker: str, log_dir: Path, log) -> dict:
    from django.db import connections

    from benchmarks.holds import create_guarantees

    rate, seconds = options["rate"], options["seconds"]
    if rate <= 0 or seconds <= 0 or options["senders"] < 1 or options["guarantees"] < 1:
        raise ValueError("--rate, --seconds, --senders and --guarantees must be positive.")
    if options["no_worker"]:
        raise BenchmarkError("--no-worker: each run has a database of its own, created for it, which no worker "
                             "already running uses; the benchmark starts its worker (--worker-concurrency).")
    run_id = secrets.token_hex(4)
    count = int(rate * seconds)
    file_lines = max(0, options["file_lines"])
    paths = ["bulk", "legacy"] if options["file_path"] == "both" else [options["file_path"]]
    log(f"run {run_id}: broker {broker}; {options['guarantees']} guarantees, {count} transits for the latency "
        "phase...")
    guarantee_ids = create_guarantees(run_id, options["guarantees"])
    places = world(run=run_id)
    latency_transits = create_open_transits(run=run_id, guarantee_ids=guarantee_ids, count=count, places=places,
                                            prefix="L")
    file_transits = {}
    for path in paths if file_lines else []:
        lines = file_lines if path == "bulk" else min(file_lines, options["legacy_lines"])
        log(f"run {run_id}: {lines} transits for the file phase ({path})...")
        file_transits[path] = create_open_transits(run=run_id, guarantee_ids=guarantee_ids, count=lines,
                                                   places=places, prefix=f"F{path[0].upper()}")
    worker = None
    sweep_after = options.get("sweep_after")
    load_before = host_load()
    try:
        if not options["no_worker"]:
            env = {"DB_CONN_MAX_AGE": "600"}
            if sweep_after is not None:
                env |= {"REGISTRY_EVENT_SWEEP_AFTER_SECONDS": str(sweep_after),
                        "REGISTRY_SWEEP_EVENTS_EVERY_SECONDS": str(max(1, sweep_after // 2))}
            worker = WorkerProcess(
                database=database_url(connections["default"].settings_dict), broker=broker, log_dir=log_dir,
                concurrency=options["worker_concurrency"], beat=not options.get("no_beat"), env=env,
                # What production runs: DEBUG off, persistent database connections.
                settings_module=os.environ.get("BENCHMARK_WORKER_SETTINGS", "config.settings.base"),
            ).start()
            log(f"run {run_id}: worker ready (log {worker.log_path})")
        with celery_broker(broker):
            latency = latency_phase(run=run_id, transits=latency_transits, rate=rate, senders=options["senders"],
                                    broker=broker, sender_id=places["customs"][SENDER_COUNTRY].pk,
                                    timeout=options["timeout"], log=log)
            files = [
                file_phase(run=run_id, transits=file_transits[path], path=path,
                           sender=places["customs"][SENDER_COUNTRY], timeout=options["timeout"], log=log)
                for path in file_transits
            ]
    finally:
        if worker is not None:
            worker.stop()
    load_after = host_load()
    all_holds = [h for _t, _r, h in latency_transits] + [h for ts in file_transits.values() for _t, _r, h in ts]
    log(f"run {run_id}: checking every hold and the ledger chains...")
    checks = check(run_id, guarantee_ids, all_holds)
    bulk = next((f for f in files if f["path"] == "bulk"), None)
    return {
        "benchmark": "releases",
        "run": run_id,
        "rate": rate,
        "seconds": seconds,
        "worker": None if options["no_worker"] else {
            "pool": "prefork", "concurrency": options["worker_concurrency"], "beat": not options.get("no_beat"),
            "sweep_after_s": sweep_after if sweep_after is not None else "setting",
        },
        "latency": latency,
        "files": files,
        "checks": checks,
        "aim": {
            **AIM,
            "p95_met": latency["p95_ms"] is not None and latency["p95_ms"] < AIM["p95_ms"]
            and not latency["not_released"],
            "file_met": bool(bulk and bulk["throughput_per_s"] and bulk["throughput_per_s"] >= AIM["file_per_s"]),
        },
        "host": {"before": load_before, "after": load_after},
    }
