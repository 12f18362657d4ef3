"""Each role's report pages in French and English, at desktop width and on a 360 px phone, with screenshots:
figures, charts and tables readable, nothing wider than the screen, the export links there."""

import pytest

from accounts.roles import Role
from tests.browser.conftest import screenshot
from tests.browser.test_transits_pages import _user, sign_in_with_totp, transits  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

ROLES = [
    (Role.FORWARDER_AGENT, "forwarder-bf", ["forwarder"]),
    (Role.BANK_CHECKER, "bank-bf", ["bank-exposure", "bank-claims"]),
    (Role.CUSTOMS_OFFICER, "customs-tg", ["customs-duties", "customs-open", "customs-release-times",
                                          "customs-cases"]),
    (Role.SECRETARIAT_ADMIN, "secretariat", ["system", "customs-open"]),
]
TITLES = {
    "forwarder": ("Vos cautions dans le temps", "Your guarantees over time"),
    "bank-exposure": ("Encours de", "Exposure of"),
    "bank-claims": ("Mises en jeu de vos cautions", "Claims on your guarantees"),
    "customs-duties": ("Droits et taxes garantis", "Duties and taxes secured"),
    "customs-open": ("Transits en cours", "Open transits"),
    "customs-release-times": ("Délais de mainlevée", "Release lead times"),
    "customs-cases": ("Enquêtes et mises en jeu", "Enquiries and claims"),
    "system": ("L’ensemble du registre", "The whole registry"),
}


@pytest.mark.parametrize(("role", "organisation_key", "slugs"), ROLES, ids=[r[1] for r in ROLES])
def test_report_pages_of_each_role(browser, live_server, transits, request, role, organisation_key, slugs):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in_with_totp(page, _user(role, organisation_key))
        # The navigation leads to the reports.
        page.click("nav.site-nav a[href='/reports/']")
        page.wait_for_load_state()
        if role == Role.FORWARDER_AGENT:
            page.goto("/")
            assert page.locator("[data-testid=home-headroom]").count() == 1
            screenshot(page, f"{request.node.name}-home")
        for language, index in (("fr", 0), ("en", 1)):
            context.add_cookies([{"name": "cu_language", "value": language, "url": live_server.url}])
            for slug in slugs:
                for width in (1280, 360):
                    page.set_viewport_size({"width": width, "height": 860})
                    page.goto(f"/reports/{slug}/")
                    assert page.locator("h1").inner_text().startswith(TITLES[slug][index]), (slug, language)
                    assert page.locator("html").get_attribute("lang") == language
                    assert page.locator("[data-testid=xlsx]").count() == 1
                    assert page.locator("[data-testid=as-of]").count() == 1
                    # Nothing wider than the screen: tables fold into cards, charts scale.
                    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (slug, width)
                    screenshot(page, f"reports-{organisation_key}-{slug}-{language}-{width}")
        context.add_cookies([{"name": "cu_language", "value": "fr", "url": live_server.url}])
    finally:
        context.close()


def test_a_filtered_report_keeps_its_filters_in_the_url_and_the_export(browser, live_server, transits, request):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in_with_totp(page, _user(Role.CUSTOMS_OFFICER, "customs-tg"))
        page.goto("/reports/customs-open/")
        page.select_option("select[name=corridor]", "LOM-OUA")
        page.click("form.report-filters button[type=submit]")
        page.wait_for_load_state()
        assert "corridor=LOM-OUA" in page.url
        assert "corridor=LOM-OUA" in page.locator("[data-testid=xlsx]").get_attribute("href")
        assert "corridor=LOM-OUA" in page.locator("[data-testid=csv-open_by_corridor]").get_attribute("href")
        rows = page.locator("[data-testid=table-most_overdue] tbody tr")
        assert rows.count() == 1 and "TG-LOME-2026-T-003990" in rows.first.inner_text()
        with page.expect_download() as download:
            page.click("[data-testid=csv-most_overdue]")
        body = open(download.value.path(), encoding="utf-8-sig").read()
        assert "TG-LOME-2026-T-003990" in body and "6250000" in body
        screenshot(page, f"{request.node.name}")
    finally:
        context.close()
