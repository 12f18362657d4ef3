"""``benchmark holds``: ``hold_reserve`` under concurrency, against the least SQL that does the same work.

1. Setup: a fresh set of active guarantees (``BENCH-<run>-NNNNNN``, room for the whole run), each opened by a
   chained OPENING ledger entry.
2. Service phase: ``--clients`` clients call ``guarantees.services.holds.hold_reserve`` for ``--seconds``, on a
   random guarantee of the set (``spread``) or all on the first one (``--hot``).
3. SQL baseline: the same clients, same mode and duration, doing the minimal transaction with psycopg 3 directly
   (lock the row, check, insert the hold, insert the chained entry, move the balance, commit). Service and SQL
   run in ``--rounds`` alternating slices, so that whatever else loads the machine weighs on both alike.
4. Refusals: the first guarantee is left room for ``--refusal-room`` holds of 1,000 F, and both paths are run
   against it for a short phase: exactly that many holds must pass, the rest be refused, nothing overdrawn.
5. Checks: guarantees overdrawn (``held + claimed + paid > amount``) and ``ledger_verify`` over the run's set.

Clients are processes by default: as threads, the service path (CPU-heavy ORM work) is bound by the GIL while
the SQL path mostly waits on the network, which would make the comparison unfair to the service.
"""

from __future__ import annotations

import datetime
import random
import secrets

from benchmarks.common import CONCURRENCY_MODES, OK, Client, benchmark_parties, combine, host_load, run_phase

HELP = "hold_reserve under concurrency vs the same transaction in raw SQL (psycopg 3)."

ROOM = 10**15  # reference amount of each benchmark guarantee: never runs out during a run
MAX_HOLD = 1000
REFUSAL_HOLD = 1000
REFUSED = "refused_insufficient"
AIM = {"spread": 0.5, "hot": 0.8}


def add_arguments(parser) -> None:
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients (default 16).")
    parser.add_argument("--seconds", type=float, default=20, help="Duration of each measured phase (default 20).")
    parser.add_argument("--hot", action="store_true", help="Every client holds on the same guarantee.")
    parser.add_argument(
        "--guarantees", type=int, default=None,
        help="Guarantees created for the run (default 1000, or 1 with --hot; with --hot the first takes all holds).",
    )
    parser.add_argument(
        "--concurrency", choices=CONCURRENCY_MODES, default="processes",
        help="Clients as processes (default: one Django and one connection each, not bound by the GIL) or "
             "threads (one process; the service path is then bound by the GIL on CPU).",
    )
    parser.add_argument(
        "--rounds", type=int, default=4,
        help="Alternate service and SQL slices this many times (each slice --seconds/rounds), so that other load "
             "on the machine weighs on both alike (default 4; 1 runs each phase in one go).",
    )
    parser.add_argument("--refusal-room", type=int, default=50,
                        help="Holds of 1,000 F that fit on the guarantee in the refusal phase (default 50).")
    parser.add_argument("--refusal-seconds", type=float, default=None,
                        help="Duration of each refusal phase (default: --seconds, at most 2).")


# --- Clients -------------------------------------------------------------------------------------


class ServiceClient(Client):
    """Calls the real service, on this client's own Django connection."""

    def __init__(self, index, params):
        super().__init__(index, params)
        from django.db import connection

        from guarantees.errors import InsufficientBalance
        from guarantees.services.holds import hold_reserve

        self.hold_reserve = hold_reserve
        self.refused = InsufficientBalance
        self.rng = random.Random(f"{params['run']}-{params['phase']}-{index}")
        self.targets = params["targets"]
        self.fixed_amount = params.get("amount")
        self.prefix = f"{params['run']}-{params['phase']}-{index}-"
        connection.ensure_connection()

    def op(self, i):
        guarantee = self.rng.choice(self.targets)
        amount = self.fixed_amount or self.rng.randint(1, MAX_HOLD)
        try:
            self.hold_reserve(guarantee=guarantee, amount=amount, reference=f"{self.prefix}{i}")
        except self.refused:
            return REFUSED
        return OK


class SqlRefused(Exception):
    pass


class SqlClient(Client):
    """The minimal transaction doing what ``hold_reserve`` does, on its own psycopg 3 connection."""

    LOCK = (
        "SELECT status, valid_from, valid_until, amount, held, claimed, paid, ledger_seq, ledger_hash "
        "FROM guarantees_guarantee WHERE id = %s FOR UPDATE"
    )
    INSERT_HOLD = (
        "INSERT INTO guarantees_hold (guarantee_id, reference, status, initial_amount, amount, claimed_amount, "
        "paid_amount, created_by_id, created_at, closed_at) VALUES (%s, %s, 'held', %s, %s, 0, 0, NULL, %s, NULL) "
        "RETURNING id"
    )
    INSERT_ENTRY = (
        "INSERT INTO guarantees_ledgerentry (guarantee_id, seq, kind, d_amount, d_held, d_claimed, d_paid, "
        "hold_id, reference, created_by_id, created_at, prev_hash, hash, key_id) "
        "VALUES (%s, %s, 'hold', 0, %s, 0, 0, %s, %s, NULL, %s, %s, %s, %s)"
    )
    UPDATE = (
        "UPDATE guarantees_guarantee SET held = held + %s, ledger_seq = %s, ledger_hash = %s, updated_at = now() "
        "WHERE id = %s"
    )

    def __init__(self, index, params):
        super().__init__(index, params)
        import psycopg

        from guarantees.services.ledger import ledger_entry

        self.ledger_entry = ledger_entry
        self.conn = psycopg.connect(**params["psycopg"])  # not autocommit: the first statement opens BEGIN
        self.rng = random.Random(f"{params['run']}-{params['phase']}-{index}")
        self.targets = params["targets"]
        self.fixed_amount = params.get("amount")
        self.prefix = f"{params['run']}-{params['phase']}-{index}-"

    def op(self, i):
        guarantee_id = self.rng.choice(self.targets)
        amount = self.fixed_amount or self.rng.randint(1, MAX_HOLD)
        reference = f"{self.prefix}{i}"
        conn = self.conn
        try:
            with conn.cursor() as cur:
                cur.execute(self.LOCK, (guarantee_id,))
                row = cur.fetchone()
                if row is None:
                    raise LookupError(f"guarantee {guarantee_id} not found")
                status, valid_from, valid_until, total, held, claimed, paid, seq, prev_hash = row
                if status != "active":
                    raise SqlRefused("guarantee_not_active")
                now = datetime.datetime.now(datetime.UTC)
                if not (valid_from <= now.date() <= valid_until):
                    raise SqlRefused("outside_validity")
                if total - held - claimed - paid < amount:
                    conn.rollback()
                    return REFUSED
                cur.execute(self.INSERT_HOLD, (guarantee_id, reference, amount, amount, now))
                hold_id = cur.fetchone()[0]
                seq += 1
                entry = self.ledger_entry(guarantee_id=guarantee_id, seq=seq, prev_hash=prev_hash, kind="hold",
                                          d_held=amount, hold_id=hold_id, reference=reference, created_at=now)
                cur.execute(self.INSERT_ENTRY, (guarantee_id, seq, amount, hold_id, reference, now, prev_hash,
                                                entry.hash, entry.key_id))
                cur.execute(self.UPDATE, (amount, seq, entry.hash, guarantee_id))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return OK

    def close(self):
        self.conn.close()


# --- Setup and checks ----------------------------------------------------------------------------


def create_guarantees(run: str, count: int, *, room: int = ROOM) -> list[int]:
    """``count`` active guarantees valid today, each with ``room`` and its OPENING entry; returns their ids."""
    from django.db import transaction
    from django.utils import timezone

    from guarantees.models import EntryKind, Guarantee, GuaranteeStatus, LedgerEntry
    from guarantees.services.ledger import ledger_entry

    country, user, forwarder, bank = benchmark_parties()

    today = timezone.now().date()
    with transaction.atomic():
        guarantees = Guarantee.objects.bulk_create(
            [
                Guarantee(
                    principal=forwarder, bank=bank, country=country, grn=f"BENCH-{run}-{n:06d}",
                    status=GuaranteeStatus.ACTIVE, requested_amount=room, amount=room,
                    valid_from=today - datetime.timedelta(days=1), valid_until=today + datetime.timedelta(days=365),
                    requested_by=user, accepted_by=user, activated_at=timezone.now(), version=1,
                    purpose=f"benchmark run {run}",
                )
                for n in range(count)
            ],
            batch_size=1000,
        )
        at = timezone.now()
        entries = []
        for g in guarantees:
            entry = ledger_entry(guarantee_id=g.pk, seq=1, prev_hash="", kind=EntryKind.OPENING, d_amount=room,
                                 reference=g.grn, by_id=user.pk, created_at=at)
            g.ledger_seq, g.ledger_hash = 1, entry.hash
            entries.append(entry.model())
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        Guarantee.objects.bulk_update(guarantees, ["ledger_seq", "ledger_hash"], batch_size=500)
    return [g.pk for g in guarantees]


def set_room(guarantee_id: int, room: int, *, reference: str) -> None:
    """Move the reference amount, through the ledger, so that exactly ``room`` is available."""
    from django.db import transaction

    from guarantees.models import EntryKind, Guarantee
    from guarantees.services.ledger import ledger_append

    with transaction.atomic():
        locked = Guarantee.objects.select_for_update().get(pk=guarantee_id)
        change = room - locked.available
        if change:
            kind = EntryKind.INCREASE if change > 0 else EntryKind.DECREASE
            ledger_append(guarantee=locked, kind=kind, d_amount=change, reference=reference)


def check(guarantee_ids: list[int]) -> tuple[int, int, list[str]]:
    """(overdrawn guarantees, ledger problems, the first problems) over the run's guarantees."""
    from django.db.models import F

    from guarantees.models import Guarantee
    from guarantees.services.ledger import ledger_verify

    run_set = Guarantee.objects.filter(pk__in=guarantee_ids)
    overdraws = run_set.filter(amount__lt=F("held") + F("claimed") + F("paid")).count()
    problems = ledger_verify(guarantees=run_set)
    return overdraws, len(problems), [str(p) for p in problems[:5]]


# --- The run -------------------------------------------------------------------------------------


def run(options: dict, *, log=print) -> dict:
    from django.db import connections

    from benchmarks.common import psycopg_params

    clients, seconds, concurrency = options["clients"], options["seconds"], options["concurrency"]
    hot = options["hot"]
    count = options["guarantees"] or (1 if hot else 1000)
    if clients < 1 or seconds <= 0 or count < 1:
        raise ValueError("--clients, --seconds and --guarantees must be positive.")
    mode = "hot" if hot else "spread"
    run_id = secrets.token_hex(4)
    db = dict(connections["default"].settings_dict)
    common = {"run": run_id, "psycopg": psycopg_params(db)}

    log(f"run {run_id}: creating {count} guarantee(s)...")
    ids = create_guarantees(run_id, count)
    targets = ids[:1] if hot else ids

    def phase(client_cls, name, duration, **params):
        log(f"run {run_id}: {name} phase, {clients} {concurrency}, {duration:g} s...")
        return run_phase(client_cls, clients=clients, seconds=duration, concurrency=concurrency,
                         params={**common, "phase": name, **params}, db_settings=db)

    load_before = host_load()
    rounds = max(1, options["rounds"])
    service_slices, sql_slices = [], []
    for r in range(rounds):
        service_slices.append(phase(ServiceClient, f"svc{r}", seconds / rounds, targets=targets))
        sql_slices.append(phase(SqlClient, f"sql{r}", seconds / rounds, targets=targets))
    service, baseline = combine(service_slices), combine(sql_slices)
    load_after = host_load()

    # Refusals: room for exactly K holds on the first guarantee, then every client tries to take more.
    k = options["refusal_room"]
    refusal_seconds = options["refusal_seconds"] or min(seconds, 2)
    refusals = {"room_for_holds": k, "hold_amount": REFUSAL_HOLD}
    for key, client_cls, name in (("service", ServiceClient, "rsvc"), ("sql_baseline", SqlClient, "rsql")):
        set_room(ids[0], k * REFUSAL_HOLD, reference=f"BENCH-{run_id}-room-{name}")
        result = phase(client_cls, name, refusal_seconds, targets=ids[:1], amount=REFUSAL_HOLD)
        refusals[key] = {"accepted": result.ops, REFUSED: result.outcomes.get(REFUSED, 0), "errors": result.errors}
    refusals["exact"] = all(refusals[key]["accepted"] == k for key in ("service", "sql_baseline"))

    log(f"run {run_id}: checking balances and ledger chains...")
    overdraws, ledger_problems, problem_samples = check(ids)

    ratio = service.throughput / baseline.throughput if baseline.throughput else None
    aim = AIM[mode]
    result = {
        "benchmark": "holds",
        "mode": mode,
        "clients": clients,
        "seconds": seconds,
        "guarantees": count,
        "concurrency": concurrency,
        "rounds": rounds,
        "run": run_id,
        "service": service.summary(),
        "sql_baseline": baseline.summary(),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "overdraws": overdraws,
        "ledger_problems": ledger_problems,
        "refusals": refusals,
        "aim": {"ratio": aim, "met": ratio is not None and ratio >= aim},
        "host": {"before": load_before, "after": load_after},
    }
    if problem_samples:
        result["ledger_problem_samples"] = problem_samples
    return result
