"""A claim in a real browser, one demo person after another: a customs supervisor of Burkina Faso claims part
of what is held for an overdue transit → the bank's checker sees the claim with its deadline and pays in part →
the forwarder sees the claim paid in part and its transit settled. Screenshots go to test-output/screenshots/."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Organisation
from accounts.roles import OrganisationKind, Role
from guarantees.management.commands.seed_demo import demo_user
from guarantees.models import Bank, Claim, ClaimStatus, TransitStatus
from guarantees.reference.importer import reference_import
from guarantees.services.enquiries import enquiry_open
from guarantees.services.guarantees import guarantee_accept, guarantee_confirm, guarantee_prepare, guarantee_request
from guarantees.services.ledger import ledger_verify
from guarantees.terms import guarantee_terms
from tests.browser.conftest import screenshot
from tests.browser.test_guarantee_flow import _enrolled, sign_in_as, submit_main_form
from tests.builders import backdate, declare_as_of

pytestmark = pytest.mark.browser

REF = "TG-LOME-2026-T-003990"


def _user(role, key):
    from accounts.models import User

    return User.objects.get(email=demo_user(role, key).email)


@pytest.fixture
def overdue_transit(demo):
    """Transit Sahel's guarantee at Banque Sahel; a transit Lomé → Ouagadougou declared 90 days ago and never
    discharged; the enquiry (notice to the guarantor) opened by Burkina Faso's customs 45 days ago."""
    reference_import()
    agent = _user(Role.FORWARDER_AGENT, "forwarder-bf")
    bank = Bank.objects.get(organisation__short_name="Banque Sahel")
    today = timezone.localdate()
    g = guarantee_request(principal=agent.organisation, bank=bank, requested_amount=300_000_000, valid_from=today,
                          valid_until=today + datetime.timedelta(days=365), purpose="Lomé – Ouagadougou", by=agent,
                          submit=True)
    g = guarantee_prepare(guarantee=g, by=_user(Role.BANK_MAKER, "bank-bf"))
    guarantee_confirm(guarantee=g, by=_user(Role.BANK_CHECKER, "bank-bf"), expected=guarantee_terms(g))
    g = guarantee_accept(guarantee=g, by=_user(Role.CUSTOMS_OFFICER, "customs-bf"))
    backdate(g, days=400)  # in force before the transits below were declared (the registry checks)
    togo = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="TG")
    now = timezone.now()
    transit, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": REF, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "corridor": "LOM-OUA", "declared_at": now - datetime.timedelta(days=90), "amount": 6_250_000,
        "transport": {"vehicle": "BF-9876-CD"},
    })
    enquiry_open(transit=transit, by=_user(Role.CUSTOMS_OFFICER, "customs-bf"), ground="overdue",
                 reason="Aucun apurement reçu au bureau de Ouagadougou.", now=now - datetime.timedelta(days=45))
    return g, transit


def test_supervisor_claims_bank_pays_in_part_forwarder_sees_it(page, request, overdue_transit):
    name = request.node.name
    g, transit = overdue_transit
    supervisor = demo_user(Role.CUSTOMS_SUPERVISOR, "customs-bf").email
    checker = demo_user(Role.BANK_CHECKER, "bank-bf").email
    agent = demo_user(Role.FORWARDER_AGENT, "forwarder-bf").email
    secrets = {email: _enrolled(email) for email in (supervisor, checker)}

    # 1. The customs supervisor finds the overdue transit and claims 5 000 000 of the 6 250 000 held.
    sign_in_as(page, supervisor, secrets[supervisor])
    page.click("nav.site-nav a[href='/enquiries/']")
    page.wait_for_load_state()
    page.click(f"[data-testid=enquiry-table] a:has-text('{REF}')")
    page.wait_for_load_state()
    screenshot(page, f"{name}-1-enquiry")
    page.click("[data-testid=claim-link]")
    page.wait_for_load_state()
    assert page.input_value("input[name=amount]") == "6250000"
    page.fill("input[name=amount]", "5 000 000")
    page.fill("textarea[name=grounds]",
              "Transit non apuré à Ouagadougou ; droits et taxes exigibles au Burkina Faso : 5 000 000 FCFA.")
    screenshot(page, f"{name}-2-claim-form")
    submit_main_form(page)
    assert "/claims/" in page.url
    assert page.locator("[data-testid=claim-amount]").inner_text() == "5\u202f000\u202f000\u00a0FCFA"
    number = page.locator("[data-testid=claim-number]").inner_text()
    claim = Claim.objects.get(number=number)
    assert claim.status == ClaimStatus.ISSUED
    screenshot(page, f"{name}-3-claim-issued")

    # 2. The bank's checker sees it among the claims to answer, with its deadline, and pays 3 000 000.
    sign_in_as(page, checker, secrets[checker])
    page.click("nav.site-nav a[href='/claims/']")
    page.wait_for_load_state()
    row = page.locator("[data-testid=claims-to-answer] tbody tr", has_text=number)
    assert row.count() == 1
    assert claim.examination_due.strftime("%d/%m/%Y") in row.locator("[data-testid=deadline]").inner_text()
    screenshot(page, f"{name}-4-bank-claims")
    row.locator(f"a:has-text('{number}')").click()
    page.wait_for_load_state()
    page.click("[data-testid=pay-link]")
    page.wait_for_load_state()
    page.fill("input[name=amount]", "3 000 000")
    page.fill("input[name=payment_reference]", "VIR-BSCI-2026-0457")
    page.fill("input[name=payment_date]", timezone.localdate().isoformat())
    screenshot(page, f"{name}-5-pay-form")
    submit_main_form(page)
    assert page.locator("[data-testid=paid-in-part]").count() == 1
    assert page.locator("[data-testid=paid-amount]").inner_text() == "3\u202f000\u202f000\u00a0FCFA"
    screenshot(page, f"{name}-6-paid-in-part")
    g.refresh_from_db()
    assert (g.held, g.claimed, g.paid) == (0, 0, 3_000_000)
    assert ledger_verify() == []

    # 3. The forwarder sees the claim paid in part, its payment reference, and the transit settled.
    sign_in_as(page, agent)
    page.click("nav.site-nav a[href='/claims/']")
    page.wait_for_load_state()
    row = page.locator("[data-testid=claim-table] tbody tr", has_text=number)
    assert row.count() == 1
    screenshot(page, f"{name}-7-forwarder-claims")
    row.locator(f"a:has-text('{number}')").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=payment-reference]").inner_text() == "VIR-BSCI-2026-0457"
    assert page.locator("[data-testid=paid-in-part]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.click(f"[data-testid=transit-summary] a:has-text('{REF}')")
    page.wait_for_load_state()
    assert page.locator("[data-testid=case-panel]").count() == 1
    transit.refresh_from_db()
    assert transit.status == TransitStatus.SETTLED
    assert "settled" in page.locator("[data-testid=status] .status").get_attribute("class")


def test_forwarder_answers_with_proof_and_customs_release_manually(page, request, overdue_transit, tmp_path,
                                                                   settings):
    """Enquiry → proof → manual release: the forwarder uploads its proof, an officer of Burkina Faso proposes the
    release, the supervisor (another person) approves, and the hold goes back to the guarantee."""
    name = request.node.name
    g, transit = overdue_transit
    agent = demo_user(Role.FORWARDER_AGENT, "forwarder-bf").email
    officer = demo_user(Role.CUSTOMS_OFFICER, "customs-bf").email
    supervisor = demo_user(Role.CUSTOMS_SUPERVISOR, "customs-bf").email
    secrets = {email: _enrolled(email) for email in (officer, supervisor)}
    settings.MEDIA_ROOT = str(tmp_path / "media")  # the upload stays out of the project's var/media
    proof = tmp_path / "certificat-de-sortie.pdf"
    proof.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    sign_in_as(page, agent)
    page.click("nav.site-nav a[href='/enquiries/']")
    page.wait_for_load_state()
    page.click(f"[data-testid=enquiry-table] a:has-text('{REF}')")
    page.wait_for_load_state()
    page.click("[data-testid=answer-link]")
    page.wait_for_load_state()
    page.check("input[name=kind][value=proof]")
    page.fill("textarea[name=text]", "Les marchandises sont arrivées à Ouaga-Inter ; certificat de sortie joint.")
    page.set_input_files("input[name=files]", str(proof))
    screenshot(page, f"{name}-1-answer-form")
    submit_main_form(page)
    assert page.locator("[data-testid=answer] [data-testid=document]").inner_text() == "certificat-de-sortie.pdf"
    screenshot(page, f"{name}-2-answered")

    sign_in_as(page, officer, secrets[officer])
    page.goto(f"/enquiries/{transit.enquiries.get().pk}/")
    page.click("[data-testid=propose-release]")
    page.wait_for_load_state()
    page.check("input[name=ground][value=proof_accepted]")
    page.fill("textarea[name=reason]", "Certificat de sortie vérifié auprès du bureau de Ouaga-Inter.")
    submit_main_form(page)

    sign_in_as(page, supervisor, secrets[supervisor])
    page.click("nav.site-nav a[href='/enquiries/']")
    page.wait_for_load_state()
    approvals = page.locator("[data-testid=releases-to-approve] tbody tr", has_text=REF)
    assert approvals.count() == 1
    screenshot(page, f"{name}-3-to-approve")
    approvals.locator("a.button").click()
    page.wait_for_load_state()
    submit_main_form(page)
    assert "discharged" in page.locator("[data-testid=status] .status").get_attribute("class")
    screenshot(page, f"{name}-4-released")
    g.refresh_from_db()
    assert (g.held, g.claimed, g.paid) == (0, 0, 0)
    assert ledger_verify() == []
