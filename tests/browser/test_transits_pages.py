"""A customs officer of Burkina Faso follows transits in the browser: the list, then a transit's detail."""

import datetime

import pyotp
import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.management.commands.seed_demo import demo_user
from guarantees.models import Bank
from guarantees.reference.importer import reference_import
from guarantees.services.guarantees import guarantee_accept, guarantee_confirm, guarantee_prepare, guarantee_request
from guarantees.terms import guarantee_terms
from tests.browser.conftest import screenshot
from tests.browser.test_accounts_ui import sign_in
from tests.builders import backdate, declare_as_of

pytestmark = pytest.mark.browser

RICE = [
    {"hs_code": "100630", "description": "Riz blanchi", "customs_value": 25_000_000, "gross_mass_kg": 30000},
    {"hs_code": "870421", "description": "Camion benne", "customs_value": 18_000_000, "gross_mass_kg": 9000},
]


def _user(role: str, organisation_key: str) -> User:
    return User.objects.get(email=demo_user(role, organisation_key).email)


@pytest.fixture
def transits(demo):
    """Transit Sahel's active guarantee at Banque Sahel, and two transits declared at Lomé by Togo's customs."""
    reference_import()
    agent = _user(Role.FORWARDER_AGENT, "forwarder-bf")
    bank = Bank.objects.get(organisation__memberships__user=_user(Role.BANK_MAKER, "bank-bf"))
    today = timezone.localdate()
    g = guarantee_request(
        principal=agent.organisation, bank=bank, requested_amount=300_000_000, valid_from=today,
        valid_until=today + datetime.timedelta(days=365), purpose="Corridor Lomé – Ouagadougou", by=agent,
        submit=True,
    )
    g = guarantee_prepare(guarantee=g, by=_user(Role.BANK_MAKER, "bank-bf"))
    guarantee_confirm(guarantee=g, by=_user(Role.BANK_CHECKER, "bank-bf"), expected=guarantee_terms(g))
    g = guarantee_accept(guarantee=g, by=_user(Role.CUSTOMS_OFFICER, "customs-bf"))
    backdate(g, days=400)  # in force before the transits below were declared (the registry checks)
    togo = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="TG")
    now = timezone.now()
    computed, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": "TG-LOME-2026-T-004512", "office_of_departure": "TGLOME",
        "office_of_destination": "BFOUAG", "corridor": "LOM-OUA", "declared_at": now - datetime.timedelta(hours=30),
        "goods": RICE, "transport": {"vehicle": "BF-1234-AB", "seals": ["TG-778812", "TG-778813"]},
    })
    late, _ = declare_as_of(sender=togo, guarantee=g, data={
        "declaration_ref": "TG-LOME-2026-T-003990", "office_of_departure": "TGLOME",
        "office_of_destination": "BFOUAG", "corridor": "LOM-OUA", "declared_at": now - datetime.timedelta(days=9),
        "amount": 6_250_000, "transport": {"vehicle": "BF-9876-CD"},
    })
    return computed, late


def sign_in_with_totp(page, user: User) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    cache.clear()
    sign_in(page, user.email)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_customs_officer_opens_the_transit_list_and_a_transit(page, request, transits):
    computed, late = transits
    sign_in_with_totp(page, _user(Role.CUSTOMS_OFFICER, "customs-bf"))

    page.click("nav.site-nav a[href='/transits/']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Transits"
    rows = page.locator("[data-testid=transit-table] tbody tr")
    assert rows.count() == 2
    late_row = page.locator("[data-testid=transit-table] tbody tr", has_text=late.declaration_ref)
    assert late_row.locator("[data-testid=overdue-badge]").count() == 1
    assert "6\u202f250\u202f000\u00a0FCFA" in late_row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, f"{request.node.name}-list")
    wrap = page.locator("main .table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table overflows its box"

    page.click("details.filter-box summary")
    page.check("input[name=overdue]")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "overdue=on" in page.url
    assert page.locator("[data-testid=transit-table] tbody tr").count() == 1
    screenshot(page, f"{request.node.name}-overdue")

    page.click("form.filters a[href='/transits/']")
    page.wait_for_load_state()

    page.click(f"a:has-text('{computed.declaration_ref}')")
    page.wait_for_load_state()
    assert page.locator("[data-testid=declaration-ref]").inner_text() == computed.declaration_ref
    route = page.locator("[data-testid=route] li")
    assert route.count() == 4
    assert "TGLOME" in route.first.inner_text() and "BFOUAG" in route.last.inner_text()
    kept = computed.amount_breakdown["country"]
    assert page.locator(f"[data-testid=breakdown-{kept}] [data-testid=kept-country]").count() == 1
    assert page.locator("[data-testid=kept-country]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_customs_officer_uploads_a_discharge_file_and_sees_the_refused_line(page, request, transits, tmp_path):
    computed, _late = transits
    sign_in_with_totp(page, _user(Role.CUSTOMS_OFFICER, "customs-bf"))
    page.goto("/discharges/upload/")
    assert "message_id,declaration_ref,type,office,occurred_at,amount_released" in page.locator(
        "[data-testid=csv-example]").inner_text()
    when = timezone.now().replace(microsecond=0).isoformat()
    upload = tmp_path / "apurements-du-jour.csv"
    upload.write_text(
        "message_id,declaration_ref,type,office,occurred_at,amount_released\n"
        f"BF-2026-000101,{computed.declaration_ref},discharge,BFOUAG,{when},\n"
        f"BF-2026-000102,{computed.declaration_ref},discharge,NEMAKA,{when},\n"
        f"BF-2026-000103,TG-LOME-2026-T-999999,discharge,BFOUAG,{when},\n",
        encoding="utf-8",
    )
    screenshot(page, f"{request.node.name}-form")
    page.set_input_files("input[name=file]", str(upload))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/discharges/" in page.url
    # Processed in the request here (no broker): no more refreshing, the counts are final.
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.locator("[data-testid=job-total]").inner_text() == "3"
    assert page.locator("[data-testid=job-done]").inner_text() == "2"  # one waits for its declaration
    assert page.locator("[data-testid=job-failed]").inner_text() == "1"
    errors = page.locator("[data-testid=job-errors] tbody tr")
    assert errors.count() == 1 and errors.first.locator("td").first.inner_text() == "2"
    screenshot(page, f"{request.node.name}-job")
    computed.refresh_from_db()
    assert computed.status == "discharged"


def test_secretariat_issues_an_api_key_seen_once(page, request):
    sign_in_with_totp(page, _user(Role.SECRETARIAT_ADMIN, "secretariat"))
    page.click("nav.site-nav a[href='/secretariat/api-keys/']")
    page.wait_for_load_state()
    togo = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="TG")
    page.select_option("select[name=organisation]", str(togo.pk))
    page.fill("input[name=name]", "SYDONIA World – Lomé-Port")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    key = page.locator("[data-testid=api-key]").inner_text()
    assert key.startswith("cu_")
    screenshot(page, f"{request.node.name}-issued")
    page.reload()
    assert page.locator("[data-testid=api-key]").count() == 0
    assert key not in page.content()
