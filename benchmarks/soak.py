"""``benchmark soak``: the registry under a steady open-loop load for minutes, with a real gunicorn, Celery worker
(with beat) and Redis, as customs systems and people use it.

1. Setup (``benchmark api``'s world): reference data, Togo's customs (declares) and Burkina Faso's (discharges)
   with an API key each, active guarantees with access codes, a forwarder's person signed in (a session cookie)
   for the pages, and ``--file-lines`` open transits for one discharge file.
2. Processes: a private ``redis-server`` (cache and broker), gunicorn (``--web-workers`` sync workers, production
   settings module ``config.settings.base``) and a Celery worker with beat (``--worker-concurrency``), all with
   ``PROMETHEUS_MULTIPROC_DIR`` set, as deploy/ runs them.
3. Load, open loop: requests leave on a fixed schedule whatever the answers (a dispatcher thread hands each to a
   pool of threads at its due time; latency is measured from the due time, so a server that falls behind shows
   it instead of slowing the senders — no coordinated omission):
   - ``POST /api/v1/transits`` at ``--rate`` a second (the declarations);
   - for each declaration answered 201, ``POST /api/v1/transits/{ref}/events`` (discharge at the destination)
     ``--discharge-after`` seconds later: the events;
   - ``GET /guarantees/<pk>/`` as the forwarder at ``--page-rate`` a second: the page views;
   - one discharge file of ``--file-lines`` lines (``POST /api/v1/discharges/files``) halfway.
4. Report: per kind, p50/p99/max and errors (by status); discharge → hold released (p50/p95/p99, ``Hold.closed_at``
   from the 202); resident memory (RSS) of every process started (gunicorn master and workers, the worker and its
   pool, redis) at the start of the load and at its end; then, once every release is done, the checks: every
   declaration answered 201 is one transit with one HOLD entry, every discharge answered 202 released its hold
   exactly once (one release entry), the file's lines all released, no guarantee overdrawn, ``ledger_verify``
   clean.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.api import (
    DESTINATION,
    MAX_AMOUNT,
    app_environment,
    declaration,
    free_port,
    setup_world,
)
from benchmarks.common import (
    BenchmarkError,
    cpu_seconds_between,
    cpu_ticks_by_process,
    host_busy_ticks,
    host_load,
    percentile,
)

HELP = "Open-loop load for minutes (declarations, events, pages, a file) on gunicorn + Celery; p50/p99, RSS, ledger."

AIM = {"declare_p99_ms": 100, "release_p95_ms": 500, "errors": 0, "rss_drift_pct": 10}
ROOT = Path(__file__).resolve().parent.parent
DISCHARGE_COUNTRY = "BF"


def add_arguments(parser) -> None:
    parser.add_argument("--minutes", type=float, default=30, help="Length of the load (default 30).")
    parser.add_argument("--rate", type=float, default=50, help="Declarations per second (default 50).")
    parser.add_argument("--page-rate", type=float, default=None, help="Page views per second (default rate/10).")
    parser.add_argument("--discharge-after", type=float, default=5.0,
                        help="Seconds from a declaration answered to its discharge (default 5).")
    parser.add_argument("--file-lines", type=int, default=1000, help="Lines of the discharge file (default 1000; "
                        "0: no file).")
    parser.add_argument("--guarantees", type=int, default=200, help="Guarantees declared on (default 200).")
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn workers (default 2 per CPU, 2–4).")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes (default 2).")
    parser.add_argument("--threads", type=int, default=64, help="Sending threads (default 64).")
    parser.add_argument("--drain-timeout", type=float, default=300,
                        help="Longest wait for the releases after the load (default 300 s).")


# --- Processes ----------------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


class Started:
    """A process of the run, in its own session, logging to a file."""

    def __init__(self, name: str, command: list[str], *, env: dict, log_path: Path):
        self.name, self.log_path = name, log_path
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def pids(self) -> dict[str, int]:
        out = {f"{self.name}": self.proc.pid}
        for i, child in enumerate(sorted(children(self.proc.pid))):
            out[f"{self.name}.{i + 1}"] = child
        return out

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def wait_http(port: int, path: str, *, proc: Started, timeout: float = 60, ok=(200,)) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchmarkError(f"{proc.name} exited:\n{proc.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status in ok:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.3)
    raise BenchmarkError(f"{proc.name} did not answer {path} within {timeout:g} s:\n{proc.log_tail()}")


# --- The load ------------------------------------------------------------------------------------------------


class Load:
    """The schedule (a heap of due times), the dispatcher, the pool of senders and what they measured."""

    def __init__(self, *, port: int, threads: int):
        self.port = port
        self.heap: list[tuple[float, int, str, tuple]] = []
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.serial = 0
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="soak")
        self.local = threading.local()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.samples: dict[str, list[str]] = defaultdict(list)
        self.late = 0.0
        self.scheduled: Counter = Counter()
        self.handlers = {}
        self.stopped = False
        self.in_flight = 0
        self.dues: list[tuple[float, str]] = []

    def scheduled_by(self, moment: float) -> Counter:
        """Requests of each kind whose due time is before ``moment`` (from the schedule, answered or not)."""
        with self.lock:
            return Counter(kind for due, kind in self.dues if due < moment)

    def at(self, due: float, kind: str, *args) -> None:
        with self.wake:
            self.serial += 1
            self.scheduled[kind] += 1
            self.dues.append((due, kind))
            heapq.heappush(self.heap, (due, self.serial, kind, args))
            self.wake.notify()

    def dispatch_until(self, end: float) -> None:
        """Hand each request to the pool at its due time, until ``end`` (requests due later are dropped)."""
        while True:
            with self.wake:
                while True:
                    now = time.time()
                    if now >= end and (not self.heap or self.heap[0][0] >= end):
                        return
                    if self.heap and self.heap[0][0] <= now:
                        due, _serial, kind, args = heapq.heappop(self.heap)
                        break
                    timeout = (self.heap[0][0] - now) if self.heap else 0.05
                    self.wake.wait(min(timeout, 0.05))
            self.late = max(self.late, time.time() - due)
            with self.lock:
                self.in_flight += 1
            self.pool.submit(self._run, due, kind, args)

    def drain(self, timeout: float = 120) -> None:
        """Wait up to ``timeout`` for the requests handed over; then those still queued are never sent (counted
        ``not_sent``) and those on the wire are waited for, so that nothing answered comes after the checks."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return conn

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict) -> tuple[int, bytes]:
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers={**headers, "Connection": "keep-alive"})
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.local.conn = None
            raise
        if response.will_close:
            conn.close()
            self.local.conn = None
        return response.status, data

    def _run(self, due: float, kind: str, args: tuple) -> None:
        try:
            try:
                outcome = self.handlers[kind](*args)
            except Exception as exc:  # noqa: BLE001 - counted, with a sample
                outcome = type(exc).__name__
                if len(self.samples[kind]) < 3:
                    self.samples[kind].append(f"{type(exc).__name__}: {exc}"[:200])
            elapsed = time.time() - due
            with self.lock:
                self.outcomes[kind][outcome] += 1
                if outcome == "ok":
                    self.latencies[kind].append(elapsed)
        finally:
            with self.lock:
                self.in_flight -= 1


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def summary(latencies: list[float], outcomes: Counter, samples: list[str]) -> dict:
    values = sorted(latencies)
    errors = {k: v for k, v in outcomes.items() if k != "ok"}
    return {
        "ok": outcomes.get("ok", 0), "errors": sum(errors.values()), "error_kinds": errors, "error_samples": samples,
        "p50_ms": _ms(percentile(values, 50)), "p99_ms": _ms(percentile(values, 99)),
        "max_ms": _ms(values[-1] if values else None),
    }


# --- Setup ---------------------------------------------------------------------------------------------------


def _discharger(run: str) -> tuple[int, str]:
    from accounts.api_keys import api_key_create
    from accounts.models import Organisation
    from accounts.roles import OrganisationKind

    org = (Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=DISCHARGE_COUNTRY, is_active=True)
           .first() or Organisation.objects.create(kind=OrganisationKind.CUSTOMS, name="Douanes BF",
                                                    country=DISCHARGE_COUNTRY))
    _key, raw = api_key_create(organisation=org, name=f"Soak {run}")
    return org.pk, raw


def _page_session(run: str) -> tuple[str, list[int]]:
    """A forwarder's person of the benchmark's forwarder, signed in: the session cookie, and the pages to view."""
    from django.test import Client

    from accounts.models import Membership, User
    from accounts.roles import Role
    from benchmarks.common import benchmark_parties
    from guarantees.models import Guarantee

    _country, _user, forwarder, _bank = benchmark_parties()
    user = User.objects.create_user(email=f"soak-{run}@caution-unique.invalid", password=secrets.token_urlsafe(16),
                                    first_name="Soak")
    Membership.objects.create(user=user, organisation=forwarder, role=Role.FORWARDER_AGENT)
    client = Client()
    client.force_login(user)
    ids = list(Guarantee.objects.filter(principal=forwarder, grn__contains=f"-{run.upper()}-")
               .values_list("pk", flat=True)[:50]) or list(Guarantee.objects.filter(principal=forwarder)
                                                            .values_list("pk", flat=True)[:50])
    from django.conf import settings

    return client.cookies[settings.SESSION_COOKIE_NAME].value, ids


def _file_csv(refs: list[str], *, run: str) -> bytes:
    from benchmarks.releases import discharges_csv

    return discharges_csv(refs, run=f"soak-{run}")


# --- The run -------------------------------------------------------------------------------------------------


def run(options: dict, *, log=print) -> dict:
    from benchmarks.releases import private_redis

    log_dir = Path(os.environ.get("BENCHMARK_LOG_DIR") or tempfile.gettempdir()) / f"soak-{secrets.token_hex(4)}"
    log_dir.mkdir(parents=True, exist_ok=True)
    with private_redis(log_dir) as redis_url:
        if redis_url is None:
            raise BenchmarkError("redis-server is not installed: the soak needs a Redis of its own.")
        return _run(options, redis_url=redis_url, log_dir=log_dir, log=log)


def _run(options: dict, *, redis_url: str, log_dir: Path, log) -> dict:
    from django.conf import settings
    from django.db import connections

    from benchmarks.releases import create_open_transits, world
    from guarantees.models import Guarantee

    minutes, rate = options["minutes"], options["rate"]
    if minutes <= 0 or rate <= 0:
        raise ValueError("--minutes and --rate must be positive.")
    page_rate = options["page_rate"] if options["page_rate"] is not None else rate / 10
    seconds = minutes * 60
    run_id = secrets.token_hex(3).upper()
    declared = int(rate * seconds) + 10
    world_ = setup_world(run_id, options["guarantees"], log=log)
    _sender_pk, discharge_key = _discharger(run_id)
    cookie, page_ids = _page_session(run_id)
    file_transits = []
    if options["file_lines"] > 0:
        log(f"run {run_id}: {options['file_lines']} open transits for the discharge file...")
        file_transits = create_open_transits(run=run_id, guarantee_ids=world_["ids"], count=options["file_lines"],
                                             places=world(run=run_id), prefix="F")
    db = dict(connections["default"].settings_dict)
    connections.close_all()

    metrics_dir = log_dir / "prometheus"
    metrics_dir.mkdir()
    token = secrets.token_urlsafe(24)
    env = app_environment(db=db, redis_url=redis_url, settings_module="config.settings.base")
    env |= {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": token, "LOG_LEVEL": "WARNING",
            "CERTIFICATE_PKCS12_PATH": settings.CERTIFICATE_PKCS12_PATH,
            "CERTIFICATE_PKCS12_PASSPHRASE": settings.CERTIFICATE_PKCS12_PASSPHRASE or ""}
    if settings.CERTIFICATE_TRUST_ROOTS_PATH:
        env["CERTIFICATE_TRUST_ROOTS_PATH"] = settings.CERTIFICATE_TRUST_ROOTS_PATH
    # The production settings serve static files from a manifest (CompressedManifestStaticFilesStorage): the pages
    # need collectstatic first, as deploy/ does at build time.
    env["STATIC_ROOT"] = str(log_dir / "static")
    # The libraries' files (Swagger UI, admin, DRF: most of the 13 MB to compress) are not on the pages viewed.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0", "-i", "drf_spectacular_sidecar",
                    "-i", "admin", "-i", "rest_framework"], cwd=ROOT, env=env, check=True, timeout=900)
    workers = options["web_workers"] or max(2, min(4, 2 * (os.cpu_count() or 1)))
    port = free_port()
    started: list[Started] = []
    load_before = host_load()
    try:
        web = Started("gunicorn", [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--keep-alive", "5",
            "--log-level", "warning",
        ], env=env, log_path=log_dir / "gunicorn.log")
        started.append(web)
        worker = Started("celery", [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
            f"--concurrency={options['worker_concurrency']}", "-Q", "releases,celery,bulk", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "--loglevel=WARNING", "-n", f"soak-{run_id}@%h",
            "--beat", "--schedule", str(log_dir / "beat-schedule"),
        ], env=env, log_path=log_dir / "worker.log")
        started.append(worker)
        wait_http(port, "/healthz", proc=web)
        wait_http(port, "/readyz", proc=web, timeout=30)
        log(f"run {run_id}: gunicorn ({workers} workers) on port {port}, Celery worker "
            f"({options['worker_concurrency']}) with beat; logs in {log_dir}")
        time.sleep(2)  # the worker's pool forked and connected
        result = _load(options, run_id=run_id, port=port, world_=world_, discharge_key=discharge_key, cookie=cookie,
                       page_ids=page_ids, file_transits=file_transits, rate=rate, page_rate=page_rate,
                       seconds=seconds, declared=declared, started=started, token=token, log=log)
    finally:
        for proc in reversed(started):
            proc.stop()
    result["host"] = {"before": load_before, "after": host_load()}
    result["processes"] = {"gunicorn_workers": workers, "celery_concurrency": options["worker_concurrency"],
                           "logs": str(log_dir)}
    guarantee_ids = list(Guarantee.objects.filter(pk__in=world_["ids"]).values_list("pk", flat=True))
    result["checks"] = check(run_id, guarantee_ids=guarantee_ids, declared=result.pop("_declared"),
                             discharged=result.pop("_discharged"), file_refs=[r for _t, r, _h in file_transits])
    result["aim"] = {
        **AIM,
        "met": bool(
            result["kinds"]["declaration"]["p99_ms"] is not None
            and result["kinds"]["declaration"]["p99_ms"] < AIM["declare_p99_ms"]
            and result["releases"]["p95_ms"] is not None and result["releases"]["p95_ms"] < AIM["release_p95_ms"]
            and not any(k["errors"] for k in result["kinds"].values())
            and result["memory"]["max_drift_pct"] is not None
            and abs(result["memory"]["max_drift_pct"]) <= AIM["rss_drift_pct"]
            and result["checks"]["clean"]
        ),
    }
    return result


def _load(options, *, run_id, port, world_, discharge_key, cookie, page_ids, file_transits, rate, page_rate,
          seconds, declared, started, token, log) -> dict:
    from django.conf import settings

    load = Load(port=port, threads=options["threads"])
    declare_headers = {"Authorization": f"Api-Key {world_['key']}", "Content-Type": "application/json",
                       "Accept": "application/json"}
    event_headers = {"Authorization": f"Api-Key {discharge_key}", "Content-Type": "application/json",
                     "Accept": "application/json"}
    page_headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Accept": "text/html",
                    "Accept-Language": "fr"}
    rng = random.Random(run_id)
    declared_at = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)))
    accepted_declarations: list[str] = []
    accepted_discharges: dict[str, float] = {}
    box = threading.Lock()

    def declare(n: int):
        grn, code, _pk = rng.choice(world_["targets"])
        ref = f"SOAK-{run_id}-{n:07d}"
        body = json.dumps(declaration(ref=ref, grn=grn, code=code, amount=rng.randint(1, MAX_AMOUNT),
                                      declared_at=declared_at)).encode()
        status, _data = load.request("POST", "/api/v1/transits", body=body, headers=declare_headers)
        if status != 201:
            return f"http_{status}"
        with box:
            accepted_declarations.append(ref)
        load.at(time.time() + options["discharge_after"], "event", ref)
        return "ok"

    def discharge(ref: str):
        body = json.dumps({"message_id": f"SOAK-D-{ref}", "type": "discharge", "office": DESTINATION,
                           "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
        status, _data = load.request("POST", f"/api/v1/transits/{ref}/events", body=body, headers=event_headers)
        if status not in (200, 201, 202):
            return f"http_{status}"
        with box:
            accepted_discharges[ref] = time.time()
        return "ok"

    def page(pk: int):
        status, _data = load.request("GET", f"/guarantees/{pk}/", headers=page_headers)
        return "ok" if status == 200 else f"http_{status}"

    file_job: dict = {}

    def discharge_file():
        refs = [ref for _t, ref, _h in file_transits]
        body = _file_csv(refs, run=run_id)
        sent_at = time.time()  # before it leaves: a fast worker may release its lines before the 202 is read
        status, data = load.request("POST", f"/api/v1/discharges/files?filename=soak-{run_id}.csv",
                                    body=body,
                                    headers={**event_headers, "Content-Type": "text/csv"})
        if status != 202:
            return f"http_{status}"
        file_job["job"] = json.loads(data)["job"]
        file_job["sent_at"] = sent_at
        return "ok"

    load.handlers = {"declaration": declare, "event": discharge, "page": page, "discharge_file": discharge_file}
    # Warm-up, not measured: every gunicorn worker imports its views, serializers and templates on its first
    # requests (a second or more each on a busy machine); a few of each kind, from several threads at once.
    warm = ThreadPoolExecutor(max_workers=8)
    for i in range(8 * options.get("warm_up", 3)):
        grn, code, _pk = rng.choice(world_["targets"])
        body = json.dumps(declaration(ref=f"WARM-{run_id}-{i:04d}", grn=grn, code=code, amount=1,
                                      declared_at=declared_at)).encode()
        warm.submit(load.request, "POST", "/api/v1/transits", body=body, headers=declare_headers)
        if page_ids:
            warm.submit(load.request, "GET", f"/guarantees/{page_ids[i % len(page_ids)]}/", headers=page_headers)
    warm.shutdown(wait=True)
    start = time.time() + 1.0
    end = start + seconds
    for n in range(int(rate * seconds)):
        load.at(start + n / rate, "declaration", n)
    if page_ids and page_rate > 0:
        for n in range(int(page_rate * seconds)):
            load.at(start + n / page_rate, "page", page_ids[n % len(page_ids)])
    if file_transits:
        load.at(start + seconds / 2, "discharge_file")

    memory = {"start": None, "end": None, "samples": []}
    cpu: dict = {}
    pids: dict[str, int] = {}  # each process's pid at the latest sample (a replaced one changes)

    def sample_memory() -> dict:
        out = {}
        for proc in started:
            for name, pid in proc.pids().items():
                out[name] = rss_kb(pid)
                pids[name] = pid
        return out

    def sampler():
        # The start is taken once the load has run 20 s (the workers' caches and connections warmed), the end
        # at its end; in between one sample a minute.
        warm = min(20.0, seconds / 4)
        time.sleep(max(0.0, start + warm - time.time()))
        memory["start"] = sample_memory()
        memory["start_pids"] = dict(pids)
        memory["start_at_s"] = round(warm, 1)
        cpu["before"], cpu["host_before"], cpu["at"] = cpu_ticks_by_process(), host_busy_ticks(), time.time()
        cpu["scheduled_before"] = dict(load.scheduled_by(time.time()))
        while time.time() < end - 1:
            time.sleep(min(60.0, max(0.1, end - time.time() - 1)))
            memory["samples"].append({"at_s": round(time.time() - start, 1), "rss_kb": sample_memory()})
        # The CPU of the steady part: from the start sample to the last declaration's due time.
        time.sleep(max(0.0, end - time.time()))
        cpu["after"], cpu["host_after"], cpu["until"] = cpu_ticks_by_process(), host_busy_ticks(), time.time()
        cpu["scheduled_after"] = dict(load.scheduled_by(time.time()))

    sampler_thread = threading.Thread(target=sampler, daemon=True)
    sampler_thread.start()
    log(f"run {run_id}: open loop for {seconds:g} s: {rate:g} declarations/s (+ their discharges after "
        f"{options['discharge_after']:g} s), {page_rate:g} pages/s, a file of {len(file_transits)} lines halfway")
    load.dispatch_until(end + options["discharge_after"] + 1)
    load.drain()
    memory["end"] = sample_memory()
    memory["end_pids"] = dict(pids)
    sampler_thread.join(timeout=2)
    log(f"run {run_id}: load done ({len(accepted_declarations)} declarations, {len(accepted_discharges)} "
        "discharges accepted); waiting for the releases...")

    released = wait_released(accepted_discharges, file_transits, timeout=options["drain_timeout"])
    lags = sorted(released["lags"])
    metrics_text = scrape_metrics(port, token)
    kinds = {kind: summary(load.latencies[kind], load.outcomes[kind], load.samples[kind])
             for kind in ("declaration", "event", "page", "discharge_file")}
    for kind, values in kinds.items():
        # Still waiting for a sending thread when the load ended (the server fell that far behind): never sent.
        values["scheduled"] = load.scheduled[kind]
        values["not_sent"] = load.scheduled[kind] - values["ok"] - values["errors"]
    # Drift of the processes that lived through the load; one replaced meanwhile (gunicorn's max_requests, a pool
    # process recycled) is a fresh process, not a leak or a shrink: listed apart.
    drift, replaced = {}, []
    for name, before in (memory["start"] or {}).items():
        after = (memory["end"] or {}).get(name)
        if memory.get("start_pids", {}).get(name) != memory.get("end_pids", {}).get(name):
            replaced.append(name)
        elif before and after:
            drift[name] = round(100 * (after - before) / before, 1)
    return {
        "benchmark": "soak",
        "cpu": cpu_report(cpu, started=started),
        "run": run_id,
        "minutes": options["minutes"],
        "rate": rate,
        "page_rate": page_rate,
        "kinds": kinds,
        "dispatcher_late_max_s": round(load.late, 3),
        "releases": {
            "discharges_accepted": len(accepted_discharges), "released": len(lags),
            "p50_ms": _ms(percentile(lags, 50)), "p95_ms": _ms(percentile(lags, 95)),
            "p99_ms": _ms(percentile(lags, 99)), "max_ms": _ms(lags[-1] if lags else None),
            "file_lines_released": released["file_released"], "file_seconds_to_last_release":
                round(released["file_done_at"] - file_job["sent_at"], 2) if file_job and released["file_done_at"]
                else None,
        },
        "memory": {
            "rss_kb_start": memory["start"], "rss_kb_end": memory["end"], "drift_pct": drift,
            "replaced_during_load": replaced,
            "max_drift_pct": max(drift.values(), key=abs) if drift else None, "samples": memory["samples"],
            "start_after_s": memory.get("start_at_s"),
        },
        "metrics": metrics_text,
        "_declared": accepted_declarations,
        "_discharged": list(accepted_discharges),
    }


def cpu_report(cpu: dict, *, started: list[Started]) -> dict:
    """Where the CPU went in the steady part of the load, by process: the web (gunicorn's master and workers),
    the Celery worker (with its pool and beat), PostgreSQL's processes, the run's Redis, this process (the
    sending threads and the dispatcher), and the rest of the machine; in seconds, in share of the machine's
    cores, and per declaration (with its discharge and its share of the page views and file)."""
    if not cpu.get("before") or not cpu.get("after"):
        return {}
    roots = {proc.name: proc.proc.pid for proc in started}
    me = os.getpid()

    def classify(pid, name, ppid, *, waited=False):
        for label, root in roots.items():
            kind = {"gunicorn": "web", "celery": "worker"}.get(label, label)
            if pid == root:
                # A recycled gunicorn worker (max_requests) or pool process ended in between: its CPU is in its
                # parent's count of waited-for children, and belongs with the other children.
                return f"{kind}_children" if waited else f"{kind}_main"
            if ppid == root:
                return f"{kind}_children"
        if pid == me:
            return "sender"
        if "bin/postgres" in name or "bin/postmaster" in name:
            # The server's first process: what it holds is the CPU of its children that ended in between
            # (sessions closed during the load).
            return "postgres_ended_sessions"
        if name.startswith(("postgres", "postmaster")):
            # Sessions ("postgres: 15/main: user database host(port) ...") apart from the server's own processes.
            return "postgres_sessions" if "(" in name else "postgres_server"
        if name.startswith("redis-server"):
            return "redis"
        return None

    seconds = cpu_seconds_between(cpu["before"], cpu["after"], classify,
                                  reaped=lambda pid, name, ppid: classify(pid, name, ppid, waited=True))
    wall = cpu["until"] - cpu["at"]
    declarations = cpu["scheduled_after"].get("declaration", 0) - cpu["scheduled_before"].get("declaration", 0)
    measured = round(sum(seconds.values()), 2)
    out = {"wall_s": round(wall, 1), "declarations_due": declarations, "seconds": seconds}
    if cpu.get("host_before") and cpu.get("host_after"):
        busy = cpu["host_after"][0] - cpu["host_before"][0]
        total = cpu["host_after"][1] - cpu["host_before"][1]
        ticks = os.sysconf("SC_CLK_TCK")
        out["host_busy_pct"] = round(100 * busy / total, 1) if total else None
        # The machine's figure is sampled at each clock tick (/proc/stat); a process's own is its exact run time.
        # Where the load is many bursts shorter than a tick (a request, a query) — on a virtual machine above all —
        # the ticks miss some of them: "other" then reads below zero, and "processes" is the better total.
        out["seconds"]["other"] = round(busy / ticks - measured, 2)
        out["seconds"]["machine"] = round(busy / ticks, 2)
    out["seconds"]["processes"] = measured
    if declarations:
        out["ms_per_declaration"] = {k: round(1000 * v / declarations, 2) for k, v in out["seconds"].items()}
    return out


def wait_released(discharged: dict[str, float], file_transits: list, *, timeout: float) -> dict:
    from django.db.models import Max

    from guarantees.models import Hold, HoldStatus, Transit

    hold_of = dict(Transit.objects.filter(declaration_ref__in=list(discharged)).values_list("declaration_ref",
                                                                                             "hold_id"))
    hold_ids = [h for h in hold_of.values() if h]
    file_holds = [h for _t, _r, h in file_transits]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Hold.objects.filter(pk__in=hold_ids + file_holds).exclude(status=HoldStatus.RELEASED).exists():
            break
        time.sleep(0.5)
    closed = dict(Hold.objects.filter(pk__in=hold_ids, closed_at__isnull=False).values_list("pk", "closed_at"))
    lags = [max(0.0, closed[hold_of[ref]].timestamp() - at) for ref, at in discharged.items()
            if hold_of.get(ref) in closed]
    file_released = Hold.objects.filter(pk__in=file_holds, status=HoldStatus.RELEASED).count()
    # When the file's last line was released: its hold's own closing moment (this check runs after the load, long
    # after the file, which is sent halfway through).
    file_done_at = None
    if file_holds and file_released == len(file_holds):
        last = Hold.objects.filter(pk__in=file_holds).aggregate(last=Max("closed_at"))["last"]
        file_done_at = last.timestamp() if last else None
    return {"lags": lags, "file_released": file_released, "file_done_at": file_done_at}


def scrape_metrics(port: int, token: str) -> dict:
    """A few series of /metrics at the end (the endpoint itself, with the run's token): proof it adds the
    processes up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        text = response.read().decode()
    except (OSError, http.client.HTTPException) as exc:
        return {"error": str(exc)}
    finally:
        conn.close()
    if response.status != 200:
        return {"status": response.status}
    wanted = ("caution_ledger_entries_total", "caution_release_lag_seconds_count", "caution_transit_events_pending",
              "caution_celery_queue_length", "caution_sweep_runs_total", "caution_task_failures_total",
              "caution_http_requests_total", "caution_http_request_duration_seconds_sum",
              "caution_http_request_duration_seconds_count")
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(wanted):
            name, _, value = line.rpartition(" ")
            if "caution_http_requests_total" in name and 'status="2' in name:
                continue
            out[name] = float(value)
    out["lines"] = len(text.splitlines())
    return out


def check(run: str, *, guarantee_ids: list[int], declared: list[str], discharged: list[str],
          file_refs: list[str]) -> dict:
    from django.db.models import Count, F

    from guarantees.models import EntryKind, Guarantee, Hold, HoldStatus, LedgerEntry, Transit
    from guarantees.services.ledger import ledger_verify

    transits = Transit.objects.filter(declaration_ref__startswith=f"SOAK-{run}-")
    transit_count = transits.count()
    hold_ids = list(transits.values_list("hold_id", flat=True))
    discharged_holds = list(Transit.objects.filter(declaration_ref__in=discharged).values_list("hold_id", flat=True))
    file_holds = list(Transit.objects.filter(declaration_ref__in=file_refs).values_list("hold_id", flat=True))
    hold_entries = LedgerEntry.objects.filter(hold_id__in=hold_ids, kind=EntryKind.HOLD).values("hold_id") \
        .annotate(n=Count("id"))
    releases = LedgerEntry.objects.filter(hold_id__in=discharged_holds + file_holds,
                                          kind=EntryKind.RELEASE).values("hold_id").annotate(n=Count("id"))
    release_count = {r["hold_id"]: r["n"] for r in releases}
    guarantees = Guarantee.objects.filter(pk__in=guarantee_ids)
    result = {
        "declarations_answered_201": len(declared),
        "transits_stored": transit_count,
        "declarations_lost": len(set(declared) - set(transits.values_list("declaration_ref", flat=True))),
        "holds_with_one_hold_entry": sum(1 for h in hold_entries if h["n"] == 1),
        "holds_with_several_hold_entries": sum(1 for h in hold_entries if h["n"] != 1),
        "discharges_answered_202": len(discharged),
        "holds_released": Hold.objects.filter(pk__in=discharged_holds, status=HoldStatus.RELEASED).count(),
        "releases_missing": sum(1 for h in discharged_holds + file_holds if release_count.get(h, 0) == 0),
        "released_twice": sum(1 for n in release_count.values() if n > 1),
        "file_lines": len(file_refs),
        "file_holds_released": Hold.objects.filter(pk__in=file_holds, status=HoldStatus.RELEASED).count(),
        "overdraws": guarantees.filter(amount__lt=F("held") + F("claimed") + F("paid")).count(),
        "ledger_problems": len(ledger_verify(guarantees=guarantees)),
    }
    result["clean"] = (
        result["declarations_lost"] == 0 and result["transits_stored"] == len(declared)
        and result["holds_with_several_hold_entries"] == 0 and result["releases_missing"] == 0
        and result["released_twice"] == 0 and result["overdraws"] == 0 and result["ledger_problems"] == 0
        and result["file_holds_released"] == len(file_refs)
    )
    return result

