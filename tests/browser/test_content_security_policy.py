"""The pages work under the Content-Security-Policy: Chromium reports no violation on the main pages of a signed-in
role, on the public pages, nor on the Swagger UI (which must still render)."""

import pytest

from accounts.roles import Role
from guarantees.management.commands.seed_demo import demo_user
from tests.browser.conftest import screenshot
from tests.browser.test_accounts_ui import enrol_totp, sign_in

pytestmark = pytest.mark.browser

# Runs in every document before its own scripts; the page's CSP does not apply to it.
_LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and CSP console error collected in ``page.csp_problems``."""
    problems = []
    page.add_init_script(_LISTEN)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.csp_problems = problems
    return page


def _visit(page, path: str):
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    assert response.ok, f"{path}: {response.status}"
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), path
    _assert_clean(page, path)


def _assert_clean(page, where: str):
    violations = page.evaluate("window.__cspViolations || []")
    assert violations == [], f"{where}: {violations}"
    assert page.csp_problems == [], f"{where}: {page.csp_problems}"


def _first_link(page, selector: str) -> str | None:
    link = page.locator(selector).first
    return link.get_attribute("href") if link.count() else None


def test_a_secretariat_administrators_pages_raise_no_csp_violation(watched, request):
    page = watched
    sign_in(page, demo_user(Role.SECRETARIAT_ADMIN, "secretariat").email)
    page.goto("/")
    _assert_clean(page, "enrolment (QR code as a data: image)")
    enrol_totp(page, request.node.name)  # the enrolment and recovery-code pages, then home
    _assert_clean(page, "recovery codes")

    for path in ("/", "/guarantees/", "/transits/", "/secretariat/banks/", "/secretariat/api-keys/",
                 "/notifications/", "/reconciliations/", "/secretariat/failed-tasks/", "/claims/", "/enquiries/",
                 "/accounts/2fa/", "/verify/"):
        _visit(page, path)
    for listing, selector in (("/guarantees/", "table a[href^='/guarantees/']"),
                              ("/secretariat/banks/", "table a[href^='/secretariat/banks/']")):
        page.goto(listing)
        detail = _first_link(page, selector)
        assert detail, f"no row on {listing}"
        _visit(page, detail)
    screenshot(page, request.node.name)


def test_the_public_pages_raise_no_csp_violation(watched):
    for path in ("/accounts/login/", "/accounts/password/reset/", "/verify/", "/verify/scan/"):
        _visit(watched, path)


def test_the_swagger_ui_renders_under_the_policy(watched, request):
    page = watched
    _visit(page, "/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Caution unique" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 5  # the operations of the schema are listed
    page.locator(".opblock").first.click()  # opening one runs more of Swagger UI's code
    page.wait_for_timeout(500)
    _assert_clean(page, "swagger ui")
    screenshot(page, request.node.name)
