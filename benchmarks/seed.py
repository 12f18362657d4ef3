"""``manage.py seed_scale``: a registry after years of traffic, written into PostgreSQL with COPY.

What is written, and why it is shaped so:

* **Parties**: ``--banks`` approved banks (with a maker and a checker each), ``--forwarders`` forwarders (an
  agent each), the customs administration of each country of the reference data (an officer each) and the
  secretariat — enough to sign in as every role.
* **Guarantees** (``--guarantees``): mostly active, some suspended, expired, cancelled or closed, a few at the
  bank (submitted) or drafts; spread over banks and forwarders with a long tail (a few forwarders hold many).
* **Transits** (``--transits``): over the reference corridors (all leave from Lomé, so Togo's customs see them
  all: the heaviest list), drawn on the guarantees that can carry them with a long tail too (one guarantee
  gathers thousands of holds, as in the issue), declared over the last ``--years`` years with traffic growing.
  Status follows age: the recent ones on the road, the old ones discharged, a few cancelled, overdue, claimed
  or settled; each with its route (``TransitStop``, written by one INSERT … SELECT from the corridor's stops).
* **Holds, ledger, enquiries, claims**: one hold per transit; the ledger of each guarantee is its OPENING entry,
  then HOLD / RELEASE / CLAIM / PAYMENT entries in the order of their times, each built and sealed by
  ``guarantees.services.ledger.ledger_entry`` (the code's own chain and MAC), so ``verify_ledger`` passes; each
  guarantee's balances are the sums of its entries and ``held``/``claimed`` those of its holds. An overdue,
  claimed or settled transit has its enquiry; a claimed one an open claim, a settled one a paid claim.

The rows are generated a slice of guarantees at a time (bounded memory) and each table written with
``cursor.copy`` (psycopg 3), parents first; ids are drawn from the tables' sequences up front. CHECK, UNIQUE
and foreign-key constraints all apply. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from dataclasses import dataclass, field

HELP = "Fill a PostgreSQL database with a registry of N transits (COPY), consistent for verify_ledger."

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)

# Share of transits per corridor code (the reference data's five; unknown codes are ignored).
CORRIDOR_WEIGHTS = {"LOM-OUA": 45, "LOM-NIA": 20, "LOM-NIA-OUA": 8, "LOM-BKO-KOL": 17, "LOM-BKO-FAR": 10}
# Share of guarantees per status (those without transits last).
GUARANTEE_STATUSES = (
    ("active", 78), ("suspended", 3), ("expired", 8), ("cancelled", 2), ("closed", 5), ("submitted", 2),
    ("draft", 2),
)
CARRYING = ("active", "suspended", "expired", "cancelled", "closed")
SLICE = 250  # guarantees generated and written per batch


@dataclass
class World:
    now: datetime.datetime
    start: datetime.datetime
    seed_user: int
    banks: list  # (bank id, organisation id, country, maker id, checker id)
    forwarders: list  # (organisation id, country, user id)
    customs: dict  # country -> (organisation id, officer id)
    secretariat: tuple  # (organisation id, user id)
    corridors: list  # (id, code, time limit days, departure office id, destination office id)
    corridor_weights: list


@dataclass
class Batch:
    guarantees: list = field(default_factory=list)
    holds: list = field(default_factory=list)
    transits: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    enquiries: list = field(default_factory=list)
    claims: list = field(default_factory=list)


def add_arguments(parser) -> None:
    parser.add_argument("--transits", type=int, default=20000, help="Transits to write (default 20000).")
    parser.add_argument("--guarantees", type=int, default=None,
                        help="Guarantees to write (default: one per 100 transits, at least 20).")
    parser.add_argument("--banks", type=int, default=12, help="Banks (default 12).")
    parser.add_argument("--forwarders", type=int, default=None,
                        help="Forwarders (default: one per 5 guarantees, at least 5).")
    parser.add_argument("--years", type=float, default=3, help="Years of declarations (default 3).")
    parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")


# --- Parties and reference data (ORM: a few hundred rows) --------------------------------------------------


def _users(prefix: str, count: int) -> list[int]:
    from accounts.models import User

    users = User.objects.bulk_create(
        [User(email=f"{prefix}-{n}@seed.caution-unique.invalid", first_name=prefix.title(), last_name=str(n),
              password="!") for n in range(count)],
        batch_size=1000,
    )
    return [u.pk for u in users]


def setup_parties(*, banks: int, forwarders: int, rng: random.Random, now, years: float, log) -> World:
    from accounts.models import Membership, Organisation
    from accounts.roles import OrganisationKind, Role
    from guarantees.models import Bank, Corridor, Country
    from guarantees.reference.importer import reference_import

    log("seed: reference data...")
    reference_import()
    countries = list(Country.objects.filter(is_covered=True).values_list("code", flat=True))
    seed_user = _users("seed", 1)[0]

    log(f"seed: {banks} banks, {forwarders} forwarders, customs, secretariat...")
    bank_orgs = Organisation.objects.bulk_create([
        Organisation(kind=OrganisationKind.BANK, name=f"Banque {n + 1:02d} ({countries[n % len(countries)]})",
                     country=countries[n % len(countries)]) for n in range(banks)
    ])
    bank_rows = Bank.objects.bulk_create([
        Bank(organisation=o, exposure_ceiling=10**15, is_approved=True, approved_at=now) for o in bank_orgs
    ])
    makers, checkers = _users("maker", banks), _users("checker", banks)
    fwd_orgs = Organisation.objects.bulk_create([
        Organisation(kind=OrganisationKind.FORWARDER, name=f"Transitaire {n + 1:05d}",
                     country=rng.choice(countries), tin=f"NIF{n:08d}") for n in range(forwarders)
    ], batch_size=1000)
    agents = _users("forwarder", forwarders)
    customs_orgs = {}
    for code in countries:
        org = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=code).first() or \
            Organisation.objects.create(kind=OrganisationKind.CUSTOMS, name=f"Douanes {code}", country=code)
        customs_orgs[code] = org
    officers = dict(zip(countries, _users("customs", len(countries)), strict=True))
    secretariat = Organisation.objects.filter(kind=OrganisationKind.SECRETARIAT).first() or \
        Organisation.objects.create(kind=OrganisationKind.SECRETARIAT, name="Secrétariat", country="BF")
    secretary = _users("secretariat", 1)[0]
    memberships = [Membership(user_id=makers[n], organisation=o, role=Role.BANK_MAKER) for n, o in enumerate(bank_orgs)]
    memberships += [Membership(user_id=checkers[n], organisation=o, role=Role.BANK_CHECKER)
                    for n, o in enumerate(bank_orgs)]
    memberships += [Membership(user_id=agents[n], organisation=o, role=Role.FORWARDER_AGENT)
                    for n, o in enumerate(fwd_orgs)]
    memberships += [Membership(user_id=officers[c], organisation=o, role=Role.CUSTOMS_OFFICER)
                    for c, o in customs_orgs.items()]
    memberships.append(Membership(user_id=secretary, organisation=secretariat, role=Role.SECRETARIAT_ADMIN))
    Membership.objects.bulk_create(memberships, batch_size=1000)

    corridors = []
    for c in Corridor.objects.filter(is_active=True, code__in=CORRIDOR_WEIGHTS).prefetch_related("stops"):
        stops = sorted(c.stops.all(), key=lambda s: s.position)
        corridors.append((c.pk, c.code, c.time_limit_days, stops[0].office_id, stops[-1].office_id))
    if not corridors:
        from benchmarks.common import BenchmarkError

        raise BenchmarkError("The reference data has none of the corridors " + ", ".join(CORRIDOR_WEIGHTS))
    return World(
        now=now, start=now - datetime.timedelta(days=365.25 * years), seed_user=seed_user,
        banks=[(b.pk, o.pk, o.country, makers[n], checkers[n]) for n, (b, o) in enumerate(zip(bank_rows, bank_orgs))],
        forwarders=[(o.pk, o.country, agents[n]) for n, o in enumerate(fwd_orgs)],
        customs={c: (o.pk, officers[c]) for c, o in customs_orgs.items()},
        secretariat=(secretariat.pk, secretary),
        corridors=corridors, corridor_weights=[CORRIDOR_WEIGHTS[c[1]] for c in corridors],
    )


# --- Drawing -------------------------------------------------------------------------------------------------


def long_tail(rng: random.Random, count: int, total: int, *, alpha: float = 1.5, cap: float = 40) -> list[int]:
    """``total`` split over ``count`` parts with a Pareto tail (a few parts ~15 times the mean: at 1 M transits
    over 10 000 guarantees the largest carries about 1 500 holds, as in the issue), summing exactly."""
    if count <= 0:
        return []
    weights = [min(rng.paretovariate(alpha), cap) for _ in range(count)]
    scale = total / sum(weights)
    parts = [int(w * scale) for w in weights]
    rest = total - sum(parts)
    order = sorted(range(count), key=lambda i: weights[i] * scale - parts[i], reverse=True)
    for i in range(rest):
        parts[order[i % count]] += 1
    return parts


def _amount(rng: random.Random) -> int:
    """Duties and taxes at stake on one truck: lognormal around 4 M FCFA, 200 000 to 80 M, whole thousands."""
    return int(min(max(rng.lognormvariate(math.log(4_000_000), 0.8), 200_000), 80_000_000)) // 1000 * 1000


def _moment(rng: random.Random, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
    """A time in [start, end) with density growing linearly (traffic grows), to the microsecond."""
    span = (end - start).total_seconds()
    return start + datetime.timedelta(seconds=span * math.sqrt(rng.random()))


class Sequences:
    """Ids drawn up front from each table's own sequence (the hold id is sealed in its entries)."""

    def __init__(self, cursor, models):
        self.cursor = cursor
        self.next = {}
        for model in models:
            table = model._meta.db_table
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            self.next[model] = [cursor.fetchone()[0], None, 0]

    def take(self, model, count: int) -> int:
        """First id of ``count`` consecutive fresh ids."""
        seq = self.next[model]
        self.cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [seq[0], seq[0], count])
        return self.cursor.fetchone()[0] - count + 1


# --- One slice of guarantees ---------------------------------------------------------------------------------


class Generator:
    def __init__(self, world: World, rng: random.Random):
        from guarantees.grn import grn_format

        self.w = world
        self.rng = rng
        self.grn_format = grn_format
        self.grns: set[str] = set()
        self.refs_per_year: dict[tuple, int] = {}

    def grn(self, year: int, country: str) -> str:
        while True:
            value = self.grn_format(year=year, country=country, serial=self.rng.randrange(10**12))
            if value not in self.grns:
                self.grns.add(value)
                return value

    def declaration_ref(self, at: datetime.datetime) -> str:
        key = at.year
        n = self.refs_per_year[key] = self.refs_per_year.get(key, 0) + 1
        return f"TG-LOME-{at.year}-T-{n:07d}"

    def guarantee(self, gid: int, status: str, transit_count: int, ids: dict, batch: Batch) -> None:
        from guarantees.services.ledger import ledger_entry

        w, rng = self.w, self.rng
        bank_id, _bank_org, bank_country, maker, checker = rng.choice(w.banks)
        # Half the guarantees spread evenly over the forwarders, half with a long tail: the busiest forwarder
        # carries ~7 % of the guarantees (~70 000 transits at 1 M), the next ones a little less each, like the few
        # large forwarding houses of the Lomé corridor (a single forwarder with a third of all traffic is not).
        principal, _fwd_country, agent = w.forwarders[min(int((rng.paretovariate(1.3) - 1) * 8), len(w.forwarders) - 1)
                                                     if rng.random() < 0.5 else rng.randrange(len(w.forwarders))]
        # Life of the guarantee: active and suspended ones run until after today; expired, cancelled and closed
        # ones ended in the past. Transits fall inside [begin, end).
        span = w.now - w.start
        if status in ("active", "suspended", "submitted", "draft"):
            begin = w.start + span * rng.random() ** 2 * 0.9
            end = w.now
            valid_until = (w.now + DAY * rng.randint(30, 720)).date()
        else:
            begin = w.start + span * rng.random() * 0.5
            end = begin + (w.now - begin) * (0.3 + 0.5 * rng.random())
            valid_until = end.date()
        valid_from = begin.date()
        created = begin - DAY * rng.randint(5, 20)

        # Transits, their holds and the money events, in time order.
        events = []  # (at, order, kind, hold index, d_held, d_claimed, d_paid, reference)
        holds_here = []
        for _ in range(transit_count if status in CARRYING else 0):
            corridor_id, _code, days, dep, dest = rng.choices(w.corridors, weights=w.corridor_weights)[0]
            declared = _moment(rng, begin, end)
            deadline = declared + DAY * days
            age = w.now - declared
            late = w.now > deadline
            r = rng.random()
            if status == "closed":
                tstatus = "discharged" if r < 0.98 else "cancelled"
            elif not late:
                tstatus = ("declared" if r < 0.3 else "in_transit" if r < 0.7 else "arrived" if r < 0.8
                           else "discharged" if r < 0.98 else "cancelled")
            elif status in ("expired", "cancelled") and age > DAY * 60:
                tstatus = "discharged" if r < 0.97 else "cancelled" if r < 0.99 else "settled"
            else:
                tstatus = ("discharged" if r < 0.955 else "cancelled" if r < 0.975 else "overdue" if r < 0.987
                           else "claimed" if r < 0.991 else "settled")
            amount = _amount(rng)
            hold_index = len(holds_here)
            hold_id = ids["hold"] + len(batch.holds) + hold_index
            transit_id = ids["transit"] + len(batch.transits)
            ref = self.declaration_ref(declared)
            arrived = discharged = cancelled = overdue_at = closed = None
            hstatus, h_amount, h_claimed, h_paid = "held", amount, 0, 0
            events.append((declared, 0, "hold", hold_index, amount, 0, 0, ref))
            if tstatus in ("discharged", "arrived"):
                lead = DAY * days * (0.4 + 0.6 * rng.random())
                arrived = min(declared + lead, w.now - HOUR)
                if tstatus == "discharged":
                    discharged = min(arrived + HOUR * rng.randint(2, 72), w.now - HOUR / 2)
                    closed, hstatus, h_amount = discharged, "released", 0
                    events.append((discharged, 1, "release", hold_index, -amount, 0, 0, ref))
            elif tstatus == "cancelled":
                cancelled = min(declared + HOUR * rng.randint(1, 48), w.now - HOUR / 2)
                closed, hstatus, h_amount = cancelled, "released", 0
                events.append((cancelled, 1, "release", hold_index, -amount, 0, 0, ref))
            elif tstatus in ("overdue", "claimed", "settled"):
                overdue_at = deadline + HOUR * rng.randint(1, 24)
                opened = min(overdue_at + DAY * rng.randint(1, 10), w.now - HOUR)
                customs_country = "TG"
                customs_org, officer = w.customs.get(customs_country) or next(iter(w.customs.values()))
                enquiry_id = ids["enquiry"] + len(batch.enquiries)
                batch.enquiries.append({
                    "id": enquiry_id, "transit_id": transit_id, "customs_id": customs_org, "ground": "overdue",
                    "reason": "Transit non apuré dans le délai de route.",
                    "status": "open" if tstatus == "overdue" else "closed",
                    "outcome": "" if tstatus == "overdue" else "claimed",
                    "answer_due": (opened + DAY * 30).date(), "opened_by_id": officer, "opened_at": opened,
                    "closed_at": None if tstatus == "overdue" else min(opened + DAY * 31, w.now),
                })
                if tstatus != "overdue":
                    issued = min(opened + DAY * rng.randint(31, 45), w.now - HOUR / 4)
                    if issued <= opened:
                        issued = opened + HOUR / 4
                    number = f"CL-{customs_country}-{issued.year}-{transit_id:06d}-1"
                    claim = {
                        "id": ids["claim"] + len(batch.claims), "number": number, "transit_id": transit_id,
                        "guarantee_id": gid, "hold_id": hold_id, "enquiry_id": enquiry_id, "round": 1,
                        "customs_id": customs_org, "amount": amount, "grounds": "Non-apurement du transit.",
                        "status": "issued", "issued_by_id": officer, "issued_at": issued,
                        "examination_due": (issued + DAY * 7).date(), "examination_deadline": issued + DAY * 7,
                    }
                    events.append((issued, 1, "claim", hold_index, -amount, amount, 0, number))
                    hstatus, h_amount, h_claimed = "claimed", 0, amount
                    if tstatus == "settled" and issued + DAY * 3 < w.now:
                        answered = issued + DAY * rng.uniform(1, 3)
                        claim.update({
                            "status": "paid", "prepared_by_id": maker, "prepared_at": answered - HOUR,
                            "proposed_decision": "pay", "proposed_amount": amount, "answered_by_id": checker,
                            "answered_at": answered, "paid_amount": amount, "payment_reference": f"VIR-{transit_id}",
                            "payment_date": answered.date(),
                        })
                        events.append((answered, 2, "payment", hold_index, 0, -amount, amount,
                                       f"{number} VIR-{transit_id}"))
                        hstatus, h_claimed, h_paid, closed = "paid", 0, amount, answered
                    elif tstatus == "settled":
                        tstatus = "claimed"
                    batch.claims.append(claim)
                elif tstatus == "overdue":
                    pass
            if tstatus in ("in_transit", "arrived", "declared") and late:
                tstatus = "overdue" if rng.random() < 0.5 else tstatus  # before the sweep marks them
            holds_here.append({
                "id": hold_id, "guarantee_id": gid, "reference": ref, "status": hstatus, "initial_amount": amount,
                "amount": h_amount, "claimed_amount": h_claimed, "paid_amount": h_paid, "created_at": declared,
                "closed_at": closed,
            })
            departure_country = "TG"
            batch.transits.append({
                "id": transit_id, "declaration_ref": ref, "guarantee_id": gid, "hold_id": hold_id, "status": tstatus,
                "office_of_departure_id": dep, "office_of_destination_id": dest, "corridor_id": corridor_id,
                "declared_at": declared, "deadline": deadline, "amount_held": amount, "amount_source": "declared",
                "amount_breakdown": "{}", "goods": "[]",
                "transport": '{"vehicle": "' + f'{rng.choice(("TG", "BF", "NE", "ML"))}-{rng.randrange(10000):04d}-'
                             f'{rng.choice(("AA", "AB", "BC", "RT"))}' + '"}',
                "content_hash": f"{transit_id:064x}", "declared_by_id": w.customs.get(departure_country,
                                                                                      next(iter(w.customs.values())))[0],
                "created_at": declared, "arrived_at": arrived, "discharged_at": discharged, "cancelled_at": cancelled,
                "overdue_at": overdue_at if tstatus in ("overdue", "claimed", "settled") else None,
            })

        # Balances at the end, and a reference amount that always covered what was out at once.
        events.sort(key=lambda e: (e[0], e[1]))
        out = peak = 0
        for e in events:
            out += e[4] + e[5] + e[6]
            peak = max(peak, out)
        amount = max(rng.choice((50, 100, 150, 250, 500, 1000)) * 1_000_000, (peak * 5 // 4 // 1_000_000 + 1) * 1_000_000)
        grn = None
        seq, prev = 0, ""
        held = claimed = paid = 0
        activated = None
        if status in CARRYING:
            activated = min(begin, events[0][0] - HOUR) if events else begin
            grn = self.grn(activated.year, bank_country)
            entry = ledger_entry(guarantee_id=gid, seq=1, prev_hash="", kind="opening", d_amount=amount,
                                 reference=grn, by_id=w.customs.get(bank_country, (0, w.seed_user))[1],
                                 created_at=activated)
            batch.entries.append(entry.row())
            seq, prev = 1, entry.hash
            for at, _order, kind, hold_index, d_held, d_claimed, d_paid, reference in events:
                seq += 1
                entry = ledger_entry(guarantee_id=gid, seq=seq, prev_hash=prev, kind=kind, d_held=d_held,
                                     d_claimed=d_claimed, d_paid=d_paid, hold_id=holds_here[hold_index]["id"],
                                     reference=reference, created_at=at)
                batch.entries.append(entry.row())
                prev = entry.hash
                held += d_held
                claimed += d_claimed
                paid += d_paid
        batch.holds.extend(holds_here)
        confirmed = status in CARRYING
        batch.guarantees.append({
            "id": gid, "principal_id": principal, "bank_id": bank_id, "country_id": bank_country, "grn": grn,
            "status": status, "requested_amount": amount, "amount": amount if confirmed else 0, "held": held,
            "claimed": claimed, "paid": paid, "valid_from": valid_from, "valid_until": max(valid_until, valid_from),
            "purpose": "Transit Lomé – Sahel", "version": 1 if confirmed else 0, "requested_by_id": agent,
            "submitted_at": created if status != "draft" else None,
            "prepared_by_id": maker if confirmed else None, "prepared_at": created + DAY if confirmed else None,
            "preparation": 1 if confirmed else 0,
            "confirmed_by_id": checker if confirmed else None, "confirmed_at": created + 2 * DAY if confirmed else None,
            "accepted_by_id": w.customs.get(bank_country, (0, w.seed_user))[1] if confirmed else None,
            "activated_at": activated, "ledger_seq": seq, "ledger_hash": prev, "created_at": created,
            "updated_at": w.now,
        })


# --- Writing -------------------------------------------------------------------------------------------------


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields]


def copy_rows(cursor, model, rows: list, *, tuples: tuple[str, ...] | None = None) -> None:
    """COPY ``rows`` (dicts by attname, or tuples in the order ``tuples``) into ``model``'s table; a column a dict
    lacks gets the field's default (Django sets no database defaults)."""
    from psycopg import sql

    if not rows:
        return
    table = model._meta.db_table
    if tuples is not None:
        names = list(tuples)
        data = rows
    else:
        fields = _columns(model)
        names = [f.column for f in fields]
        defaults = {}
        for f in fields:
            value = f.get_default() if f.has_default() else ("" if f.empty_strings_allowed and not f.null else None)
            if isinstance(value, (dict, list)):
                import json

                value = json.dumps(value)
            defaults[f.attname] = value
        attnames = [f.attname for f in fields]
        data = ([row.get(a, defaults[a]) if a in row else defaults[a] for a in attnames] for row in rows)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    with cursor.copy(statement) as copy:
        for row in data:
            copy.write_row(row)


def write_batch(cursor, batch: Batch) -> None:
    from guarantees.models import Claim, Enquiry, Guarantee, Hold, LedgerEntry, Transit
    from guarantees.services.ledger import ENTRY_COLUMNS

    copy_rows(cursor, Guarantee, batch.guarantees)
    copy_rows(cursor, Hold, batch.holds)
    copy_rows(cursor, Transit, batch.transits)
    copy_rows(cursor, LedgerEntry, batch.entries, tuples=ENTRY_COLUMNS)
    copy_rows(cursor, Enquiry, batch.enquiries)
    copy_rows(cursor, Claim, batch.claims)


STOPS_SQL = """
INSERT INTO {stop} (transit_id, position, office_id, country_id, role)
SELECT t.id, cs.position, cs.office_id, o.country_id,
       CASE WHEN cs.position = first.p THEN 'departure' WHEN cs.position = last.p THEN 'destination' ELSE 'border' END
FROM {transit} t
JOIN {cstop} cs ON cs.corridor_id = t.corridor_id
JOIN {office} o ON o.id = cs.office_id
JOIN (SELECT corridor_id, min(position) p FROM {cstop} GROUP BY corridor_id) first ON first.corridor_id = t.corridor_id
JOIN (SELECT corridor_id, max(position) p FROM {cstop} GROUP BY corridor_id) last ON last.corridor_id = t.corridor_id
WHERE t.id BETWEEN %s AND %s
"""


def seed(*, transits: int, guarantees: int | None = None, banks: int = 12, forwarders: int | None = None,
         years: float = 3, seed: int = 1, log=print) -> dict:
    """Write the world described in the module docstring into the default database (PostgreSQL); return counts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guarantees.models import (
        Claim,
        CorridorStop,
        Enquiry,
        Guarantee,
        Hold,
        Office,
        Transit,
        TransitStop,
    )

    if connection.vendor != "postgresql":
        from benchmarks.common import BenchmarkError

        raise BenchmarkError("seed_scale writes with PostgreSQL's COPY: it runs on PostgreSQL only, not "
                             f"{connection.vendor}. Set DATABASE_URL or --database-url to postgres://...")
    if transits < 0 or (guarantees is not None and guarantees < 1) or banks < 1:
        raise ValueError("--transits must be >= 0, --guarantees and --banks positive.")
    guarantees = guarantees or max(20, transits // 100)
    forwarders = forwarders or max(5, guarantees // 5)
    rng = random.Random(seed)
    started = time.monotonic()
    now = timezone.now().replace(microsecond=0)
    world = setup_parties(banks=banks, forwarders=forwarders, rng=rng, now=now, years=years, log=log)

    weights = [w for _, w in GUARANTEE_STATUSES]
    statuses = rng.choices([s for s, _ in GUARANTEE_STATUSES], weights=weights, k=guarantees)
    carrying = [i for i, s in enumerate(statuses) if s in CARRYING]
    if not carrying and transits:
        statuses[0] = "active"
        carrying = [0]
    per_guarantee = dict.fromkeys(range(guarantees), 0)
    for i, n in zip(carrying, long_tail(rng, len(carrying), transits), strict=True):
        per_guarantee[i] = n

    generator = Generator(world, rng)
    counts = dict.fromkeys(("guarantees", "transits", "holds", "ledger_entries", "enquiries", "claims"), 0)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own cursor, for COPY
        seqs = Sequences(cursor, (Guarantee, Hold, Transit, Enquiry, Claim))
        for first in range(0, guarantees, SLICE):
            indexes = range(first, min(first + SLICE, guarantees))
            n_transits = sum(per_guarantee[i] for i in indexes)
            n_claimish = n_transits  # upper bound
            ids = {
                "guarantee": seqs.take(Guarantee, len(indexes)),
                "hold": seqs.take(Hold, max(n_transits, 1)),
                "transit": seqs.take(Transit, max(n_transits, 1)),
                "enquiry": seqs.take(Enquiry, max(n_claimish // 20 + 10, 1)),
                "claim": seqs.take(Claim, max(n_claimish // 40 + 10, 1)),
            }
            batch = Batch()
            for k, i in enumerate(indexes):
                generator.guarantee(ids["guarantee"] + k, statuses[i], per_guarantee[i], ids, batch)
            if len(batch.enquiries) > n_claimish // 20 + 10 or len(batch.claims) > n_claimish // 40 + 10:
                raise RuntimeError("seed: more enquiries or claims than ids drawn")  # cannot happen at these rates
            with transaction.atomic():
                write_batch(cursor, batch)
                if batch.transits:
                    cursor.execute(
                        STOPS_SQL.format(stop=TransitStop._meta.db_table, transit=Transit._meta.db_table,
                                         cstop=CorridorStop._meta.db_table, office=Office._meta.db_table),
                        [batch.transits[0]["id"], batch.transits[-1]["id"]],
                    )
            counts["guarantees"] += len(batch.guarantees)
            counts["transits"] += len(batch.transits)
            counts["holds"] += len(batch.holds)
            counts["ledger_entries"] += len(batch.entries)
            counts["enquiries"] += len(batch.enquiries)
            counts["claims"] += len(batch.claims)
            log(f"seed: {counts['guarantees']}/{guarantees} guarantees, {counts['transits']} transits, "
                f"{counts['ledger_entries']} ledger entries ({time.monotonic() - started:.0f} s)")
    # VACUUM (outside a transaction) sets the visibility map that autovacuum would in time: without it every
    # index-only scan still reads the heap, which a registry running for years does not.
    # Inside a transaction (a test) VACUUM cannot run: ANALYZE alone.
    statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    log(f"seed: {statement}...")
    with connection.cursor() as django_cursor:
        django_cursor.execute(statement)
    counts["stops"] = TransitStop.objects.count()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def sign_in_users() -> dict:
    """The seeded person to sign in as for each role the page benchmark uses: the agent of the forwarder with
    the most transits, the checker of the bank with the most guarantees, Togo's customs officer (who sees every
    transit: all corridors leave from Lomé) and the secretariat."""
    from django.db.models import Count

    from accounts.models import Membership
    from accounts.roles import Role
    from guarantees.models import Guarantee

    forwarder = (Guarantee.objects.values("principal_id").annotate(n=Count("transits"))
                 .order_by("-n").first() or {}).get("principal_id")
    bank = (Guarantee.objects.values("bank__organisation_id").annotate(n=Count("id"))
            .order_by("-n").first() or {}).get("bank__organisation_id")
    pick = {
        "forwarder": Membership.objects.filter(role=Role.FORWARDER_AGENT, organisation_id=forwarder),
        "bank_checker": Membership.objects.filter(role=Role.BANK_CHECKER, organisation_id=bank),
        "customs_TG": Membership.objects.filter(role=Role.CUSTOMS_OFFICER, organisation__country="TG"),
        "secretariat": Membership.objects.filter(role=Role.SECRETARIAT_ADMIN),
    }
    return {role: m.user for role, qs in pick.items() if (m := qs.select_related("user").first()) is not None}
