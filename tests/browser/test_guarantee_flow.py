"""The whole path of a guarantee in a real browser, one demo person after another: the forwarder requests and
submits → the bank's maker prepares → the checker confirms → customs of Burkina Faso accept → the forwarder
generates its access code and sees it, once. Screenshots of each step go to test-output/screenshots/."""

import re
from urllib.parse import urlparse

import pyotp
import pytest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from guarantees.management.commands.seed_demo import DEMO_PASSWORD, demo_user
from guarantees.models import Bank, Guarantee, GuaranteeStatus
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def _enrolled(email: str) -> str:
    """Give a demo staff member a TOTP device with a known secret, as if they had enrolled already."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(User.objects.get(email=email), secret)
    return secret


def sign_in_as(page, email: str, secret: str | None = None) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if secret is not None:
        assert "/accounts/2fa/authenticate/" in page.url, page.url
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
    assert "/accounts/" not in urlparse(page.url).path, page.url


def submit_main_form(page) -> None:
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()


def test_request_to_access_code_through_the_pages(page, request):
    name = request.node.name
    agent = demo_user(Role.FORWARDER_AGENT, "forwarder-bf").email
    maker = demo_user(Role.BANK_MAKER, "bank-bf").email
    checker = demo_user(Role.BANK_CHECKER, "bank-bf").email
    officer = demo_user(Role.CUSTOMS_OFFICER, "customs-bf").email
    secrets = {email: _enrolled(email) for email in (maker, checker, officer)}
    bank = Bank.objects.get(organisation__short_name="Banque Sahel")
    today = timezone.localdate()

    # 1. The forwarder requests a guarantee and submits it at once.
    sign_in_as(page, agent)
    page.goto("/guarantees/request/")
    page.select_option("select[name=bank]", str(bank.pk))
    page.fill("input[name=requested_amount]", "12 500 000")
    page.fill("input[name=valid_from]", today.isoformat())
    page.fill("input[name=valid_until]", today.replace(year=today.year + 1).isoformat())
    page.fill("textarea[name=purpose]", "Lomé – Ouagadougou, céréales et intrants agricoles")
    screenshot(page, f"{name}-1-request")
    page.click("main form button[name=submit]")
    page.wait_for_load_state()
    match = re.search(r"/guarantees/(\d+)/$", page.url)
    assert match, page.url
    g = Guarantee.objects.get(pk=int(match.group(1)))
    assert g.status == GuaranteeStatus.SUBMITTED and g.requested_amount == 12_500_000
    assert "12\u202f500\u202f000\u00a0FCFA" in page.locator("main").inner_text()
    screenshot(page, f"{name}-2-submitted")

    # 2. The maker prepares it from the queue.
    sign_in_as(page, maker, secrets[maker])
    page.goto("/bank/queue/")
    page.click(f"[data-testid=to_prepare] a[href='/guarantees/{g.pk}/prepare/']")
    page.wait_for_load_state()
    page.fill("textarea[name=comment]", "Dossier complet, garanties reçues.")
    submit_main_form(page)
    g.refresh_from_db()
    assert g.prepared_by.email == maker and g.status == GuaranteeStatus.PREPARED
    page.goto(f"/guarantees/{g.pk}/")
    assert page.locator("[data-testid=status]").inner_text() == "Préparée — en attente du valideur"

    # 3. A different person, the checker, confirms it.
    sign_in_as(page, checker, secrets[checker])
    page.goto("/bank/queue/")
    page.click(f"[data-testid=to_check] a[href='/guarantees/{g.pk}/confirm/']")
    page.wait_for_load_state()
    assert page.locator("[data-testid=ceiling]").inner_text() == "5\u202f000\u202f000\u202f000\u00a0FCFA"
    screenshot(page, f"{name}-3-confirm")
    submit_main_form(page)
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.BANK_CONFIRMED

    # 4. Customs of the principal's country accept it.
    sign_in_as(page, officer, secrets[officer])
    page.goto("/customs/queue/")
    page.click(f"a[href='/guarantees/{g.pk}/accept/']")
    page.wait_for_load_state()
    submit_main_form(page)
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.ACTIVE and g.grn

    # 5. The forwarder generates its access code and sees it once.
    sign_in_as(page, agent)
    page.goto(f"/guarantees/{g.pk}/")
    assert page.locator("[data-testid=grn]").inner_text() == g.grn
    assert page.locator("[data-testid=available]").inner_text() == "12\u202f500\u202f000\u00a0FCFA"
    screenshot(page, f"{name}-4-active")
    page.click(f"main form[action='/guarantees/{g.pk}/access-codes/'] button[type=submit]")
    page.wait_for_load_state()
    code = page.locator("[data-testid=access-code]").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}", code), code
    screenshot(page, f"{name}-5-access-code")
    page.reload()
    assert page.locator("[data-testid=access-code]").count() == 0
    assert code not in page.locator("main").inner_text().replace(g.grn, "")

    from guarantees.services.access_codes import access_code_matches

    assert access_code_matches(guarantee=g, code=code)


def test_guarantee_list_fits_a_phone_screen(page):
    agent = demo_user(Role.FORWARDER_AGENT, "forwarder-bf").email
    sign_in_as(page, agent)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/guarantees/")
    assert page.locator("h1").count() == 1
    # Wide tables scroll inside their own box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_checker_confirms_only_the_terms_she_was_shown(page, request):
    """The issue's attack in a browser: the maker prepares 1 000 000, the checker opens the confirm page, the
    maker prepares again at 40 000 000, the checker clicks — refused, with the new terms on the page; she
    clicks again, having now seen them, and 40 000 000 is confirmed."""
    from guarantees.services.guarantees import guarantee_prepare, guarantee_request

    name = request.node.name
    agent = User.objects.get(email=demo_user(Role.FORWARDER_AGENT, "forwarder-bf").email)
    maker = User.objects.get(email=demo_user(Role.BANK_MAKER, "bank-bf").email)
    checker = demo_user(Role.BANK_CHECKER, "bank-bf").email
    secret = _enrolled(checker)
    bank = Bank.objects.get(organisation__short_name="Banque Sahel")
    today = timezone.localdate()
    g = guarantee_request(principal=agent.organisation, bank=bank, requested_amount=1_000_000, valid_from=today,
                          valid_until=today.replace(year=today.year + 1), by=agent, submit=True)
    g = guarantee_prepare(guarantee=g, by=maker, comment="Premier examen")

    sign_in_as(page, checker, secret)
    page.goto(f"/guarantees/{g.pk}/confirm/")
    assert page.locator("[data-testid=prepared-amount]").inner_text() == "1\u202f000\u202f000\u00a0FCFA"
    screenshot(page, f"{name}-1-shown")
    guarantee_prepare(guarantee=g, by=maker, amount=40_000_000, comment="Revu")  # meanwhile, the maker

    submit_main_form(page)
    g.refresh_from_db()
    assert (g.status, g.confirmed_by) == (GuaranteeStatus.PREPARED, None)
    main = page.locator("main").inner_text()
    assert "L’initiateur a modifié les conditions après l’ouverture de cette page" in main
    assert page.locator("[data-testid=prepared-amount]").inner_text() == "40\u202f000\u202f000\u00a0FCFA"
    screenshot(page, f"{name}-2-refused")

    submit_main_form(page)
    g.refresh_from_db()
    assert (g.status, g.requested_amount) == (GuaranteeStatus.BANK_CONFIRMED, 40_000_000)
