"""Each demo role signs in through the real pages, in French, and the shell around them behaves."""

from urllib.parse import urlparse

import pyotp
import pytest
from django.conf import settings

from accounts.roles import MFA_REQUIRED_ROLES, OrganisationKind, Role
from guarantees.management.commands.seed_demo import DEMO_PASSWORD, demo_organisation_of, demo_user
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

# French labels the home page must show, per demo role.
ROLE_FR = {
    Role.FORWARDER_AGENT: "Agent du commissionnaire",
    Role.BANK_MAKER: "Agent bancaire (initiateur)",
    Role.BANK_CHECKER: "Agent bancaire (valideur)",
    Role.CUSTOMS_OFFICER: "Agent des douanes",
    Role.CUSTOMS_SUPERVISOR: "Superviseur des douanes",
    Role.SECRETARIAT_ADMIN: "Administrateur du secrétariat",
}
KIND_FR = {
    OrganisationKind.FORWARDER: "Commissionnaire en douane",
    OrganisationKind.BANK: "Banque caution",
    OrganisationKind.CUSTOMS: "Administration des douanes",
    OrganisationKind.SECRETARIAT: "Secrétariat régional",
}


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def enrol_totp(page, test_name: str) -> str:
    """On allauth's enrolment page: read the secret it shows, answer with a code, return the secret."""
    assert page.url.endswith("/accounts/2fa/totp/activate/"), page.url
    assert page.locator("h1").inner_text() == "Activer l’authentification à deux facteurs"
    screenshot(page, f"{test_name}-enrolment")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main form button[type=submit]:has-text('Confirmer')")
    page.wait_for_load_state()
    assert "/accounts/2fa/recovery-codes/" in page.url, page.url
    assert page.locator("[data-testid=recovery-codes]").input_value().strip()
    screenshot(page, f"{test_name}-recovery-codes")
    page.click("[data-testid=continue-home]")
    page.wait_for_load_state()
    return secret


@pytest.mark.parametrize(
    ("role", "organisation_key"),
    [
        (Role.FORWARDER_AGENT, "forwarder-bf"),
        (Role.BANK_MAKER, "bank-bf"),
        (Role.BANK_CHECKER, "bank-tg"),
        (Role.CUSTOMS_OFFICER, "customs-bf"),
        (Role.CUSTOMS_SUPERVISOR, "customs-tg"),
        (Role.SECRETARIAT_ADMIN, "secretariat"),
    ],
)
def test_demo_user_signs_in_and_sees_a_french_home_page_with_organisation_and_role(page, request, role, organisation_key):
    user = demo_user(role, organisation_key)
    organisation = demo_organisation_of(user.email)
    sign_in(page, user.email)
    if role in MFA_REQUIRED_ROLES:
        # Any page sends them to enrolment first; home comes after it.
        page.goto("/")
        enrol_totp(page, request.node.name)
    assert urlparse(page.url).path == "/", page.url
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("h1").inner_text().startswith("Bienvenue")
    assert page.locator("[data-testid=home-organisation]").inner_text() == organisation.name
    assert ROLE_FR[role] in page.locator("[data-testid=home-roles]").inner_text()
    assert KIND_FR[organisation.kind] in page.content()
    assert organisation.short_name in page.locator("[data-testid=header-organisation]").inner_text()
    assert ROLE_FR[role] in page.locator("[data-testid=header-roles]").inner_text()


def test_enrolled_bank_checker_is_asked_for_a_totp_code_at_the_next_sign_in(page, request):
    from django.core.cache import cache

    user = demo_user(Role.BANK_CHECKER, "bank-bf")
    sign_in(page, user.email)
    page.goto("/")
    secret = enrol_totp(page, request.node.name)
    page.click("header button:has-text('Se déconnecter')")
    page.wait_for_load_state()
    cache.clear()  # forget the code used at enrolment, as 30 seconds would

    sign_in(page, user.email)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    screenshot(page, f"{request.node.name}-code")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=home-organisation]").inner_text() == demo_organisation_of(user.email).name


def test_language_switch_gives_english_and_it_persists_across_pages_and_sign_ins(page):
    user = demo_user(Role.FORWARDER_ADMIN, "forwarder-bf")
    sign_in(page, user.email)
    assert page.locator("h1").inner_text().startswith("Bienvenue")

    page.click("[data-testid=language-en]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert "Forwarder administrator" in page.locator("[data-testid=home-roles]").inner_text()

    page.click("nav.site-nav a:has-text('My organisation')")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h2").first.inner_text() == "Members"

    page.click("header button:has-text('Sign out')")
    page.wait_for_load_state()
    page.context.clear_cookies()  # a new browser: only the account remembers the choice
    sign_in(page, user.email)
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text().startswith("Welcome")

    cookie = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookie.get(settings.LANGUAGE_COOKIE_NAME) == "en"


def test_wrong_password_shows_the_french_error(page):
    sign_in(page, demo_user(Role.FORWARDER_AGENT).email, "pas-le-bon-mot-de-passe")
    assert "/accounts/login/" in page.url
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in page.locator(".errorlist").inner_text()


def test_unknown_address_shows_the_french_404_page(page):
    response = page.goto("/cette-page-n-existe-pas/")
    assert response.status == 404
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("h1").inner_text() == "Page introuvable"


def test_home_page_fits_a_phone_screen(page):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, demo_user(Role.FORWARDER_ADMIN, "forwarder-bf").email)
    assert page.locator("h1").inner_text().startswith("Bienvenue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_admin_sees_members_and_invites_a_colleague(page):
    sign_in(page, demo_user(Role.FORWARDER_ADMIN, "forwarder-bf").email)
    page.click("nav.site-nav a:has-text('Mon organisation')")
    page.click("main a:has-text('Inviter un collègue')")
    page.fill("input[name=email]", "nouveau@transit-sahel.bf")
    page.select_option("select[name=role]", Role.FORWARDER_AGENT)
    screenshot(page, "test_admin_sees_members_and_invites_a_colleague-form")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "Invitation envoyée à nouveau@transit-sahel.bf" in page.locator(".messages").inner_text()
    assert "nouveau@transit-sahel.bf" in page.locator("main table").last.inner_text()


def test_security_page_and_password_change_are_french_in_the_registry_layout(page):
    sign_in(page, demo_user(Role.FORWARDER_AGENT).email)
    page.click("header a:has-text('Sécurité')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Authentification à deux facteurs"
    screenshot(page, "test_security_page-mfa-index")
    page.goto("/accounts/password/change/")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("header .who-org").inner_text() == "Transit Sahel"
