"""The offline verifier in a real browser, as at a border post with no network: the page loaded once (its service
worker keeps it, the keys and the status list), then the browser context set offline, then the page opened again
and an attestation's payload checked — an authentic one (the signature verified by WebCrypto, the status from the
cached list) and a forged one (one amount changed). Screenshots at 360 px wide in test-output/screenshots/."""

import zlib

import base45
import cbor2
import pytest

from guarantees.documents import offline
from guarantees.documents.devcert import devcert_create
from guarantees.documents.renderer import certificate_qr_text
from guarantees.services.certificates import certificate_content
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.status_list import status_list_refresh
from tests.browser.conftest import screenshot
from tests.builders import active_guarantee, scene
from tests.factories import country

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser-offline-keys")
    return directory, devcert_create(pkcs12_path=directory / "k.p12", root_path=directory / "root.pem",
                                     passphrase="browser")


@pytest.fixture
def payloads(settings, keys, demo):
    directory, pkcs12 = keys
    settings.CERTIFICATE_PKCS12_PATH = str(pkcs12.pkcs12_path)
    settings.CERTIFICATE_PKCS12_PASSPHRASE = "browser"
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(pkcs12.root_path)
    settings.CERTIFICATE_TSA_URL = None
    settings.OFFLINE_DEV_KEY_PATH = settings.OFFLINE_SIGNING_KEY_PATH = str(directory / "offline.pem")
    settings.OFFLINE_RETIRED_KEYS_PATH = None
    for code in ("BF", "ML", "NE", "TG"):
        country(code)
    g = active_guarantee(scene("BF"), amount=71_750_000)
    version = g.versions.get()
    text = certificate_qr_text(content=certificate_content(version=version), status_index=version.pk)
    status_list_refresh()

    # The forgery: the amount raised in the signed CBOR, the signature left as it was.
    sign1 = cbor2.loads(zlib.decompress(base45.b45decode(offline.payload_from_text(text)[len(offline.PREFIX):])))
    protected, unprotected, payload, signature = sign1.value
    claims = cbor2.loads(payload)
    claims = {**claims, "cu": {**claims["cu"], "amt": 171_750_000}}
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprotected), cbor2.dumps(claims), signature]))
    forged_text = offline.PREFIX + base45.b45encode(zlib.compress(forged)).decode()
    return g, text, forged_text


@pytest.fixture
def phone(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 360, "height": 780},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield context, tab
    context.close()


def test_verified_offline_authentic_and_forged(phone, payloads, live_server, request):
    context, page = phone
    g, text, forged = payloads
    page.goto("/verify/scan/")
    page.wait_for_selector("#verifier[data-ready=true]")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null || true")
    assert "1 " in page.locator("[data-testid=keys-info]").inner_text()

    context.set_offline(True)
    fragment = text.split("#", 1)[1]
    page.goto(f"/verify/scan/#{fragment}")  # served by the service worker: no network
    page.wait_for_selector("#verifier[data-ready=true]")
    result = page.locator("[data-testid=scan-result]")
    page.wait_for_selector("[data-testid=scan-result][data-authentic]")
    assert result.get_attribute("data-authentic") == "true"
    assert result.get_attribute("data-standing") == "valid"
    details = page.locator("[data-testid=details]").inner_text()
    assert g.grn in details and "71 750 000 FCFA" in details.replace("\u202f", " ").replace("\u00a0", " ")
    assert "Transit" in details or g.principal.name in details
    page.wait_for_function("document.querySelector('[data-testid=live-standing]').textContent.length > 0")
    assert "réseau" in page.locator("[data-testid=live-standing]").inner_text()  # offline: no live status
    screenshot(page, f"{request.node.name}-authentic-360")

    page.fill("#scan-text", forged)
    page.click("[data-form=paste] button[type=submit]")
    page.wait_for_selector("[data-testid=scan-result][data-authentic=false]")
    assert result.get_attribute("data-reason") == "bad_signature"
    assert "NON authentique" in page.locator("[data-testid=verdict]").inner_text() \
        or "authentique" in page.locator("[data-testid=verdict]").inner_text().lower()
    screenshot(page, f"{request.node.name}-forged-360")

    # Back online: the live status from the register too.
    context.set_offline(False)
    page.fill("#scan-text", text)
    page.click("[data-form=paste] button[type=submit]")
    page.wait_for_selector("[data-testid=live-standing][data-standing=valid]")
    screenshot(page, f"{request.node.name}-online-360")

    # Customs suspend it; the list is refreshed on that commit. The phone fetches it while online, then at the
    # border (offline) the same payload shows suspended, as of the new list's time.
    guarantee_suspend(guarantee=g, by=scene("BF").supervisor, reason="Enquête en cours")
    status_list_refresh()
    page.reload()
    page.wait_for_selector("#verifier[data-ready=true]")
    context.set_offline(True)
    page.fill("#scan-text", text)
    page.click("[data-form=paste] button[type=submit]")
    page.wait_for_selector("[data-testid=scan-result][data-standing=suspended]")
    assert result.get_attribute("data-authentic") == "true"
    assert "Suspendue" in page.locator("[data-testid=offline-standing]").inner_text()
    screenshot(page, f"{request.node.name}-suspended-360")
