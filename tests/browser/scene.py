"""One registry with something on every page, built through the services, for the walk of every role's pages.

Transit Sahel (Burkina Faso) holds an active guarantee at Banque Sahel and has a second one waiting for the bank's
checker; a third waits for the maker. Togo's customs declared three transits on the active one: one to
Ouagadougou on its way, one to Niamey (Niger is an hour ahead of the other three countries: its times must not
read differently from one place to another), and one overdue for 90 days with an enquiry, a claim and a proposed
manual release. Burkina Faso's customs sent a discharge file that was read and one that failed, and a list of open
transits whose comparison failed; a task failed, an event was refused and the ledger has a checkpoint.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.management.commands.seed_demo import demo_user
from guarantees.models import Bank, Guarantee, Transit
from tests.builders import backdate, declare_as_of


@dataclass
class Walkable:
    guarantee: Guarantee
    prepared: Guarantee
    submitted: Guarantee
    moving: Transit
    to_niamey: Transit
    overdue: Transit
    claim_id: int
    enquiry_id: int
    job_ok_id: int
    job_failed_id: int
    run_failed_id: int
    task_failure_id: int
    bank_id: int


def demo(role: str, key: str) -> User:
    return User.objects.get(email=demo_user(role, key).email)


def build() -> Walkable:
    from guarantees.models import DischargeFile, JobStatus, ReconciliationRun, ReconciliationStatus
    from guarantees.reference.importer import reference_import
    from guarantees.services.access_codes import access_code_issue
    from guarantees.services.amendments import amendment_request
    from guarantees.services.checkpoints import ledger_checkpoint_create
    from guarantees.services.claims import claim_issue
    from guarantees.services.enquiries import enquiry_open, release_propose
    from guarantees.services.events import transit_event_receive
    from guarantees.services.guarantees import guarantee_accept, guarantee_confirm, guarantee_prepare, guarantee_request
    from guarantees.operations.failures import discharge_file_fail, task_failure_record
    from guarantees.services.transits import discharge_file_receive
    from guarantees.terms import guarantee_terms

    reference_import()
    agent = demo(Role.FORWARDER_AGENT, "forwarder-bf")
    maker, checker = demo(Role.BANK_MAKER, "bank-bf"), demo(Role.BANK_CHECKER, "bank-bf")
    officer, supervisor = demo(Role.CUSTOMS_OFFICER, "customs-bf"), demo(Role.CUSTOMS_SUPERVISOR, "customs-bf")
    bank = Bank.objects.get(organisation__short_name="Banque Sahel")
    today = timezone.localdate()
    # An end of validity whose day is past the 12th, so that a month/day order cannot pass for a day/month one.
    start = today
    until = (today + datetime.timedelta(days=365)).replace(day=20)

    def request(amount, purpose):
        return guarantee_request(principal=agent.organisation, bank=bank, requested_amount=amount, valid_from=start,
                                 valid_until=until, purpose=purpose, by=agent,
                                 submit=True)

    g = guarantee_prepare(guarantee=request(300_000_000, "Corridor Lomé – Ouagadougou – Niamey"), by=maker)
    guarantee_confirm(guarantee=g, by=checker, expected=guarantee_terms(g))
    g = guarantee_accept(guarantee=g, by=officer)
    backdate(g, days=400)  # in force before the transits below were declared (the registry checks)
    access_code_issue(guarantee=g, by=agent, label="Douanes de Niamey")
    amendment_request(guarantee=g, by=agent, new_amount=350_000_000,
                      new_valid_until=g.valid_until + datetime.timedelta(days=60), reason="Campagne cotonnière")
    prepared = guarantee_prepare(guarantee=request(120_000_000, "Céréales Lomé – Bamako"), by=maker)
    submitted = request(45_000_000, "Intrants agricoles")

    togo = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="TG")
    now = timezone.now().replace(microsecond=0)
    moving, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": "TG-LOME-2026-T-004512", "office_of_departure": "TGLOME",
        "office_of_destination": "BFOUAG", "corridor": "LOM-OUA", "declared_at": now - datetime.timedelta(hours=30),
        "goods": [{"hs_code": "100630", "description": "Riz blanchi", "customs_value": 25_000_000,
                   "gross_mass_kg": 30000}],
        "transport": {"vehicle": "BF-1234-AB", "seals": ["TG-778812"]},
    })
    to_niamey, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": "TG-LOME-2026-T-004777", "office_of_departure": "TGLOME",
        "office_of_destination": "NENIAM", "corridor": "LOM-NIA",
        # 23:07 in Lomé is 00:07 the next day in Niamey: the same instant must read the same on one page.
        "declared_at": (now - datetime.timedelta(days=2)).replace(hour=23, minute=7, second=0),
        "amount": 9_400_000, "transport": {"vehicle": "NE-4410-AA"},
    })
    overdue, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": "TG-LOME-2026-T-003990", "office_of_departure": "TGLOME",
        "office_of_destination": "BFOUAG", "corridor": "LOM-OUA", "declared_at": now - datetime.timedelta(days=90),
        "amount": 6_250_000, "transport": {"vehicle": "BF-9876-CD"},
    })
    enquiry = enquiry_open(transit=overdue, by=officer, ground="overdue",
                           reason="Aucun apurement reçu au bureau de Ouagadougou.",
                           now=now - datetime.timedelta(days=45))
    overdue.refresh_from_db()
    claim = claim_issue(transit=overdue, by=supervisor, amount=5_000_000,
                        grounds="Transit non apuré ; droits et taxes exigibles au Burkina Faso.")
    moving.refresh_from_db()
    release_propose(transit=moving, by=officer, ground="paper_discharge", reason="Apurement papier reçu à Ouaga.")

    burkina = officer.organisation
    when = (now - datetime.timedelta(hours=2)).isoformat()
    ok = discharge_file_receive(sender=burkina, by=officer, filename="apurements-du-jour.csv", content=(
        "message_id,declaration_ref,type,office,occurred_at,amount_released\n"
        f"BF-2026-000101,TG-LOME-2026-T-999999,discharge,BFOUAG,{when},\n").encode())
    failed = discharge_file_receive(sender=burkina, by=officer, filename="apurements-lundi.csv",
                                    content=b"message_id,declaration_ref\n")
    DischargeFile.objects.filter(pk=failed.pk).update(status=JobStatus.RUNNING)
    discharge_file_fail(job_id=failed.pk, exception=OSError("disk full"))
    task = task_failure_record(task_name="guarantees.tasks.process_discharge_file_bulk", task_id="t-1",
                               args=[failed.pk], exception=OSError("disk full"), traceback="OSError: disk full")
    run = ReconciliationRun.objects.create(
        customs=burkina, country_id="BF", as_of=now - datetime.timedelta(hours=3), source="page",
        filename="transits-ouverts.csv", submitted=[], listed=0, submitted_by=officer,
        status=ReconciliationStatus.FAILED, error="KeyError: 'declaration_ref'",
    )
    # Burkina Faso's office discharging a transit bound for Niamey: kept, and refused.
    transit_event_receive(sender=burkina, data={
        "message_id": "BF-2026-REFUSED-1", "declaration_ref": to_niamey.declaration_ref, "type": "discharge",
        "office": "BFOUAG", "occurred_at": when,
    })
    # Niger's customs are told of the transit bound for Niamey (as the overdue sweep would).
    from guarantees.services.notifications import notice_send

    niger = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="NE")
    notice_send(event="transit_overdue", organisation=niger, guarantee=g, transit=to_niamey,
                params={"deadline": to_niamey.deadline, "deadline_zone": "Africa/Niamey", "held": 9_400_000})
    ledger_checkpoint_create()
    return Walkable(
        guarantee=g, prepared=prepared, submitted=submitted, moving=moving, to_niamey=to_niamey, overdue=overdue,
        claim_id=claim.pk, enquiry_id=enquiry.pk, job_ok_id=ok.pk, job_failed_id=failed.pk, run_failed_id=run.pk,
        task_failure_id=task.pk, bank_id=bank.pk,
    )
