"""Certificates' tests: a signing key and root made once per session in a temporary directory, and the
settings pointed at them for every test here. No timestamp authority (no network)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings



OUTPUT = Path(django_settings.BASE_DIR) / "test-output" / "certificates"


@pytest.fixture(autouse=True)
def _certificate_settings(settings, registry_signing_key):
    settings.CERTIFICATE_LANGUAGES = ["fr"]
    settings.REGISTRY_PUBLIC_URL = "https://caution.example.org"


@pytest.fixture
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


def pdftotext(pdf: bytes, tmp_path: Path, name: str = "c") -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is not installed")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, timeout=60)
    # Normalise the no-break spaces of amounts (U+202F, U+00A0) and runs of layout spaces.
    text = out.stdout.decode("utf-8").replace("\u202f", " ").replace("\u00a0", " ")
    return " ".join(text.split())


def pdftoppm_first_page(pdf: bytes, target: Path, *, dpi: int = 110) -> Path:
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm (poppler-utils) is not installed")
    source = target.with_suffix(".pdf")
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(target.with_suffix(""))], check=True, timeout=60)
    return target.with_suffix(".png")


# --- Scenes --------------------------------------------------------------------------------------

PRINCIPAL = {
    "name": "Transit Sahel Express SARL",
    "tin": "00012345X",
    "trade_register": "BF-OUA-2019-B-1234",
    "approval_number": "CDA/BF/2021/017",
    "address": "Zone industrielle de Kossodo, 01 BP 1234 Ouagadougou 01",
}
BANK_NAME = "Banque Sahélienne de Commerce"


@pytest.fixture
def covered(db):
    from tests.factories import country

    return [country(code) for code in ("BF", "ML", "NE", "TG")]


@pytest.fixture
def s(covered):
    """A scene whose principal and bank carry the details a certificate prints."""
    from tests.builders import scene

    s = scene("BF")
    for field, value in PRINCIPAL.items():
        setattr(s.forwarder, field, value)
    s.forwarder.save()
    s.bank.organisation.name = BANK_NAME
    s.bank.organisation.address = "Avenue Kwame Nkrumah, Ouagadougou"
    s.bank.organisation.save()
    s.bank.approval_reference = "Décision n° 2026-014/SR"
    s.bank.save()
    return s


@pytest.fixture
def guarantee(s):
    """An active guarantee of 71 750 000 FCFA, version 1 (no certificate yet: nothing committed in a test)."""
    from tests.builders import active_guarantee

    return active_guarantee(s, amount=71_750_000)


def amend(s, g, *, amount: int, days: int = 0):
    """Take ``g`` to its next version through the services (request, prepare, confirm)."""
    import datetime

    from guarantees.services.amendments import amendment_confirm, amendment_prepare, amendment_request
    from guarantees.terms import amendment_terms

    a = amendment_request(guarantee=g, by=s.agent, new_amount=amount,
                          new_valid_until=g.valid_until + datetime.timedelta(days=days))
    a = amendment_prepare(amendment=a, by=s.maker)
    amendment_confirm(amendment=a, by=s.checker, expected=amendment_terms(a))
    g.refresh_from_db()
    return g
