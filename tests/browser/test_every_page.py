"""Every page of every role, in French and in English, on a desktop and on a 360 px phone.

Each page must: answer 200 in the language asked; carry no word of the other language (outside the data people
typed, which is kept as typed); show no date in month/day order nor a 12-hour clock; not scroll sideways at
360 px; show one instant in one zone only; and have no serious or critical accessibility violation according to
axe-core (vendored in tests/browser/vendor/, injected by the test, never served by the site; run on the French
page, the English one having the same structure). Screenshots of every page, desktop and phone, go to
test-output/screenshots/walk/.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pyotp
import pytest
from django.core.cache import cache

from accounts.models import Organisation
from accounts.roles import Role
from guarantees.management.commands.seed_demo import DEMO_PASSWORD, demo_user
from tests.browser import scene
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 860}

# Words that belong to one language only and that our pages use; found on a page of the other language, they
# are an untranslated string. Matched as whole words, case-sensitive where the word is also a name.
ENGLISH_ONLY = [
    "the", "and", "with", "from", "your", "Guarantee", "Guarantees", "guarantee", "Sign out", "Submitted",
    "Requested", "Amount", "amount", "Declared", "Discharged", "Claims", "Enquiries", "Enquiry", "Queue",
    "Search", "Filter", "Download", "Upload", "never", "none", "Next", "Previous", "Open", "Home",
    "Password", "password", "Forgot", "Remember", "Status", "Failed", "Received", "Lines", "Refused", "Welcome",
    "Reason", "Time limit", "Transit list", "Security",
]
FRENCH_ONLY = [
    "le", "la", "les", "des", "du", "une", "est", "pour", "avec", "Garantie", "Garanties", "garantie", "Montant",
    "montant", "Se déconnecter", "Demander", "Soumise", "Déclaré", "Apuré", "Réclamations", "Enquêtes", "Banques",
    "jamais", "aucun", "Aucun", "Suivant", "Précédent", "Télécharger", "Envoyer", "Motif", "heure", "Accueil",
    "Sécurité", "Mot de passe", "Bienvenue", "Échec", "Reçu", "Lignes", "Délai",
]


def _pattern(words):
    return re.compile(r"(?<![\w’'-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w’'-])")


OTHER_LANGUAGE = {"fr": _pattern(ENGLISH_ONLY), "en": _pattern(FRENCH_ONLY)}
DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{2,4})(?![\d/])")
TWELVE_HOUR = re.compile(r"\b\d{1,2}(:\d{2})?\s?([ap]\.m\.|[AP]M)(?!\w)")
ZONES = re.compile(r"\b(GMT|WAT)\b")
# The page's words, without what is shown verbatim: codes, references, examples of files (``code``, ``pre``,
# ``.mono``), the notifications (written once, in the language their reader had then) and sentences the registry
# recorded when something happened (``.recorded``: a refusal as it was told to the sender).
VISIBLE_WORDS = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll('code, pre, kbd, samp, .mono, .notice-subject, .notice-body, .recorded, script')
        .forEach(e => e.remove());
    document.body.appendChild(copy);
    copy.style.position = 'absolute';
    const text = copy.innerText;
    copy.remove();
    return text;
}"""

ROLES = [
    ("forwarder-agent", Role.FORWARDER_AGENT, "forwarder-bf"),
    ("bank-maker", Role.BANK_MAKER, "bank-bf"),
    ("bank-checker", Role.BANK_CHECKER, "bank-bf"),
    ("customs-officer", Role.CUSTOMS_OFFICER, "customs-bf"),
    ("customs-supervisor", Role.CUSTOMS_SUPERVISOR, "customs-bf"),
    ("secretariat", Role.SECRETARIAT_ADMIN, "secretariat"),
]


def _extra_pages(role: str, w: scene.Walkable) -> list[str]:
    """The pages a role reaches from the navigation's pages: details, forms, and the failed jobs."""
    g = w.guarantee.pk
    transits = [f"/transits/{t.declaration_ref}/" for t in (w.moving, w.to_niamey, w.overdue)]
    security = ["/accounts/2fa/", "/accounts/password/change/"]
    return {
        "forwarder-agent": [f"/guarantees/{g}/", f"/guarantees/{g}/access-codes/", f"/guarantees/{g}/amend/",
                            f"/guarantees/{w.submitted.pk}/", *transits, f"/claims/{w.claim_id}/",
                            "/accounts/password/change/", f"/guarantees/{g}/statements/", "/exports/"],
        "bank-maker": [f"/guarantees/{w.submitted.pk}/prepare/", f"/guarantees/{g}/", f"/claims/{w.claim_id}/",
                       transits[2], *security],
        "bank-checker": [f"/guarantees/{w.prepared.pk}/confirm/", f"/guarantees/{g}/", f"/claims/{w.claim_id}/",
                         *security],
        "customs-officer": [f"/guarantees/{g}/", *transits, f"/enquiries/{w.enquiry_id}/",
                            f"/discharges/{w.job_ok_id}/", f"/discharges/{w.job_failed_id}/",
                            "/discharges/upload/", "/reconciliations/send/", f"/reconciliations/{w.run_failed_id}/",
                            f"/enquiries/new/{w.to_niamey.pk}/", f"/releases/new/{w.to_niamey.pk}/", *security,
                            "/exports/"],
        "customs-supervisor": [f"/claims/{w.claim_id}/", f"/enquiries/{w.enquiry_id}/", *transits[:2],
                               f"/claims/new/{w.overdue.pk}/", *security],
        "secretariat": [f"/secretariat/banks/{w.bank_id}/", f"/secretariat/failed-tasks/{w.task_failure_id}/",
                        f"/reconciliations/{w.run_failed_id}/", *security],
        "public": ["/accounts/login/", "/accounts/password/reset/", "/verify/", f"/verify/{w.guarantee.grn}/",
                   "/verify/scan/",
                   "/accounts/signup/", "/accounts/password/reset/done/",
                   "/accounts/password/reset/key/1-set-password/", "/no-such-page/"],
    }[role]


def _data_texts() -> list[str]:
    """What people typed or the reference data names (organisations, offices, purposes, reasons): shown as typed,
    in whatever language it was typed, so left out of the language check."""
    from guarantees.models import Claim, Enquiry, Guarantee, ManualRelease, Office

    texts = []
    for o in Organisation.objects.all():
        texts += [o.name, o.short_name, o.address, o.display_name]
    texts += [o.name for o in Office.objects.all()]
    texts += [g.purpose for g in Guarantee.objects.all()]
    texts += [e.reason for e in Enquiry.objects.all()] + [c.grounds for c in Claim.objects.all()]
    texts += [r.reason for r in ManualRelease.objects.all()]
    texts += ["Campagne cotonnière", "Douanes de Niamey", "Riz blanchi", "disk full", "OSError"]
    return sorted({t for t in texts if t}, key=len, reverse=True)


def _problems(page, url: str, language: str, data: list[str]) -> list[str]:
    problems = []
    text = page.evaluate(VISIBLE_WORDS)
    title = page.title()
    for typed in data:
        text = text.replace(typed, " ")
    for found in OTHER_LANGUAGE[language].finditer(text + "\n" + title):
        start = max(0, found.start() - 40)
        problems.append(f"{url} [{language}]: {found.group(0)!r} in …{text[start:found.end() + 40]!r}…")
    for found in DATE.finditer(text):
        if int(found.group(2)) > 12:
            problems.append(f"{url} [{language}]: month/day date {found.group(0)}")
    for found in TWELVE_HOUR.finditer(text):
        problems.append(f"{url} [{language}]: 12-hour clock {found.group(0)}")
    if len(set(ZONES.findall(text))) > 1:
        problems.append(f"{url} [{language}]: times in two zones on one page {sorted(set(ZONES.findall(text)))}")
    return problems


def _axe(page, url: str, language: str) -> list[str]:
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                     + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return [f"{url} [{language}] axe: {line}" for line in result]


def _visit(page, url, language, role, data, *, axe=True) -> list[str]:
    problems = []
    page.set_viewport_size(DESKTOP)
    response = page.goto(url)
    expected = 404 if url == "/no-such-page/" else 200
    if response is None or response.status != expected:
        return [f"{url} [{language}]: HTTP {response.status if response else '?'}"]
    if page.get_attribute("html", "lang") != language:
        problems.append(f"{url}: lang={page.get_attribute('html', 'lang')}, expected {language}")
    problems += _problems(page, url, language, data)
    if axe:
        problems += _axe(page, url, language)
    name = re.sub(r"[^A-Za-z0-9]+", "_", urlparse(url).path).strip("_") or "home"
    folder = SCREENSHOTS / "walk"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{role}-{language}-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(50)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 360.5 && !e.closest('.table-wrap, .scroll-x'))
                .slice(0, 4).map(e => e.tagName.toLowerCase() + '.' + e.className + ' «'
                                 + (e.innerText || '').slice(0, 30) + '»')"""
        )
        problems.append(f"{url} [{language}]: {width} px wide at 360 px: {wide}")
    page.screenshot(path=str(folder / f"{role}-{language}-{name}-phone.png"), full_page=True)
    return problems


def _sign_in(page, email: str, secret: str | None) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if secret:
        assert "/accounts/2fa/authenticate/" in page.url, page.url
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
    assert "/accounts/" not in urlparse(page.url).path, page.url


@pytest.fixture
def walk_page(browser, live_server, demo, registry_signing_key):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport=DESKTOP)
    context.add_init_script(path=str(AXE))
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def _walk(page, role: str, urls: list[str], data: list[str], switch) -> list[str]:
    problems = []
    for language in ("fr", "en"):
        switch(language)
        for url in urls:
            # axe reads structure, names and contrast, which the language does not change: once per page.
            problems += _visit(page, url, language, role, data, axe=language == "fr")
    return problems


@pytest.mark.parametrize(("role", "role_name", "organisation"), ROLES, ids=[r[0] for r in ROLES])
def test_every_page_of_the_role_reads_right_in_both_languages_on_desktop_and_phone(walk_page, role, role_name,
                                                                                   organisation):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import User
    from accounts.roles import MFA_REQUIRED_ROLES

    w = scene.build()
    data = _data_texts()
    user = User.objects.get(email=demo_user(role_name, organisation).email)
    secret = None
    if role_name in MFA_REQUIRED_ROLES:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    cache.clear()
    _sign_in(walk_page, user.email, secret)
    nav = walk_page.eval_on_selector_all("nav.site-nav a[href]", "links => links.map(a => a.getAttribute('href'))")
    nav = [u for u in nav if u.startswith("/") and not u.startswith("/admin/")]
    assert len(nav) >= 3, nav
    urls = list(dict.fromkeys(["/", *nav, "/notifications/", *_extra_pages(role, w)]))

    def switch(language):
        walk_page.goto("/")
        if walk_page.get_attribute("html", "lang") != language:
            walk_page.click(f"[data-testid=language-{language}]")
            walk_page.wait_for_load_state()

    problems = _walk(walk_page, role, urls, data, switch)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_public_pages_read_right_in_both_languages_on_desktop_and_phone(walk_page):
    w = scene.build()
    data = _data_texts()

    def switch(language):
        walk_page.goto("/accounts/login/")
        if walk_page.get_attribute("html", "lang") != language:
            walk_page.click(f"[data-testid=language-{language}]")
            walk_page.wait_for_load_state()

    problems = _walk(walk_page, "public", _extra_pages("public", w), data, switch)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_phone_menu_unread_badge_times_in_the_readers_zone_and_print(walk_page):
    """At 360 px the navigation is a menu button carrying the unread count; times read in the reader's zone,
    named once; printed, a page keeps its content and drops the navigation, buttons and forms."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import User
    from guarantees.models import Notification

    w = scene.build()
    niger = User.objects.get(email=demo_user(Role.CUSTOMS_OFFICER, "customs-ne").email)
    secret = generate_totp_secret()
    TOTP.activate(niger, secret)
    cache.clear()
    walk_page.set_viewport_size(PHONE)
    _sign_in(walk_page, niger.email, secret)
    unread = Notification.objects.filter(recipient=niger, read_at__isnull=True).count()
    assert unread, "the Niger officer has notifications about the transit bound for Niamey"
    toggle = walk_page.locator("nav.site-nav .nav-toggle")
    assert toggle.is_visible() and not walk_page.locator("#site-nav-list").is_visible()
    assert toggle.locator("[data-testid=menu-unread]").inner_text() == str(unread)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    badge = " ".join(walk_page.locator("[data-testid=nav-unread]").text_content().split())
    assert badge == f"({unread} non lues)", badge  # the parentheses and words are for screen readers only
    walk_page.click("nav.site-nav a[href='/transits/']")
    walk_page.wait_for_load_state()
    assert walk_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Declared at 23:07 in Lomé (UTC+0) is 00:07 the next day in Niamey (UTC+1): the Niger officer reads 00:07,
    # everywhere on the page, and the footer names Niamey's time once.
    walk_page.goto(f"/transits/{w.to_niamey.declaration_ref}/")
    text = walk_page.evaluate("document.body.innerText")
    assert "00:07" in text and "23:07" not in text
    assert "heure de Niamey (UTC+1)" in walk_page.locator("[data-testid=reader-zone]").inner_text()
    assert not ZONES.search(text)

    walk_page.set_viewport_size(DESKTOP)
    assert walk_page.locator("main button, main .button").count(), "the transit page offers actions on screen"
    walk_page.emulate_media(media="print")
    assert not walk_page.locator("nav.site-nav").is_visible()
    assert not walk_page.locator("header .tools").is_visible()
    assert walk_page.locator("h1").is_visible() and walk_page.locator("main table").first.is_visible()
    assert all(not b.is_visible() for b in walk_page.locator("main button, main .button, main form").all())
    walk_page.pdf(path=str(SCREENSHOTS / "walk" / "print-transit.pdf"))
    walk_page.emulate_media(media="screen")
