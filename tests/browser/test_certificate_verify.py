"""The public verification page in a real browser, as someone at a border would use it: open the page the QR
code leads to (no sign-in), read the verdict, upload the PDF and read the check. Screenshots go to
test-output/screenshots/."""

import pytest

from guarantees.documents.devcert import devcert_create
from guarantees.services.certificates import certificate_issue, certificate_pdf
from tests.browser.conftest import screenshot
from tests.builders import active_guarantee, scene
from tests.factories import country

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser-certificate-keys")
    return devcert_create(pkcs12_path=directory / "k.p12", root_path=directory / "root.pem", passphrase="browser")


@pytest.fixture
def certificate(settings, keys, demo, tmp_path):
    settings.CERTIFICATE_PKCS12_PATH = str(keys.pkcs12_path)
    settings.CERTIFICATE_PKCS12_PASSPHRASE = "browser"
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(keys.root_path)
    settings.CERTIFICATE_TSA_URL = None
    for code in ("BF", "ML", "NE", "TG"):
        country(code)
    g = active_guarantee(scene("BF"), amount=71_750_000)
    path = tmp_path / f"caution-unique-{g.grn}-v1-fr.pdf"
    path.write_bytes(certificate_pdf(certificate=certificate_issue(version=g.versions.get(), language="fr")))
    return g, path


def test_verify_page_and_upload(page, certificate, request):
    g, pdf = certificate
    page.goto(f"/verify/{g.grn}/?v=1")
    verdict = page.locator("[data-testid=standing]")
    assert verdict.get_attribute("data-standing") == "valid"
    assert g.grn in page.locator("[data-testid=grn]").inner_text()
    screenshot(page, f"{request.node.name}-page")

    page.set_input_files("input[type=file]", str(pdf))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_load_state()
    result = page.locator("[data-testid=upload-result]")
    assert result.get_attribute("data-authentic") == "true"
    screenshot(page, f"{request.node.name}-upload")
