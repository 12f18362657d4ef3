"""The attestation as a person reads it: pdftotext of the French and the English PDF, and page 1 as a PNG in
test-output/certificates/ for a person to look at."""

import datetime
from io import BytesIO

import pytest
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext

from guarantees.services.certificates import certificate_issue, certificate_pdf
from tests.guarantees.documents.conftest import BANK_NAME, PRINCIPAL, amend, pdftoppm_first_page, pdftotext

pytestmark = pytest.mark.django_db


def _pages(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(BytesIO(pdf), strict=False).root["/Pages"]["/Count"])


def _long_date(day: datetime.date, language: str) -> str:
    with translation.override(language):
        return dateformat.format(day, "j F Y")


def test_french_certificate_text(guarantee, tmp_path):
    certificate = certificate_issue(version=guarantee.versions.get(), language="fr")
    text = pdftotext(certificate_pdf(certificate=certificate), tmp_path)

    # What is French whatever the catalogue holds: figures, words, dates, and the data.
    assert "71 750 000 FCFA" in text
    assert "soixante et onze millions sept cent cinquante mille francs CFA" in text
    assert _long_date(guarantee.valid_from, "fr") in text and _long_date(guarantee.valid_until, "fr") in text
    today = timezone.localdate()
    assert _long_date(today, "fr") in text  # date of issue
    assert guarantee.grn in text
    for value in PRINCIPAL.values():
        assert value in text
    assert BANK_NAME in text and "Décision n° 2026-014/SR" in text
    assert "Burkina Faso, Mali, Niger, Togo" in text
    assert f"https://caution.example.org/verify/{guarantee.grn}/?v=1" in text
    assert certificate.fingerprint_display in text
    # Every label goes through the French catalogue (translated there by the lead's .po).
    with translation.override("fr"):
        for msgid in ("Countries covered", "Validity", "Check this certificate", "Fingerprint of the document",
                      "Reference amount", "Name", "Address"):
            label = gettext(msgid)
            assert label in text or label.upper() in text, msgid
    # No balance, no transit on a certificate.
    with translation.override("fr"):
        assert gettext("Available") not in text and gettext("Held by transits") not in text


def test_english_certificate_text(guarantee, tmp_path):
    certificate = certificate_issue(version=guarantee.versions.get(), language="en")
    text = pdftotext(certificate_pdf(certificate=certificate), tmp_path)

    assert certificate.filename == f"caution-unique-{guarantee.grn}-v1-en.pdf"
    for expected in (
        "REGIONAL REGISTRY OF THE CAUTION UNIQUE",
        "CERTIFICATE OF GUARANTEE",
        "1. PRINCIPAL", "2. GUARANTOR BANK", "3. COMMITMENT", "4. MAIN CONDITIONS",
        "71 750 000 FCFA",
        "In words: seventy-one million seven hundred fifty thousand CFA francs",
        f"from {_long_date(guarantee.valid_from, 'en')} to {_long_date(guarantee.valid_until, 'en')} inclusive",
        "Countries covered Burkina Faso, Mali, Niger, Togo",
        "Tax id (NIF) 00012345X",
        "Check this certificate",
        "Fingerprint of the document",
        "Signed electronically by: Registre de la caution unique",
        guarantee.grn,
    ):
        assert expected in text, expected


def test_both_languages_print_the_same_fingerprint(guarantee):
    version = guarantee.versions.get()
    fr = certificate_issue(version=version, language="fr")
    en = certificate_issue(version=version, language="en")
    assert fr.fingerprint == en.fingerprint and len(fr.fingerprint) == 16
    assert fr.content == en.content
    assert fr.sha256 != en.sha256


def test_an_amended_version_prints_its_own_terms(s, guarantee, tmp_path):
    g = amend(s, guarantee, amount=50_000_000, days=30)
    certificate = certificate_issue(version=g.versions.get(number=2), language="fr")
    text = pdftotext(certificate_pdf(certificate=certificate), tmp_path)
    assert "50 000 000 FCFA" in text and "cinquante millions de francs CFA" in text
    assert "?v=2" in text
    assert _long_date(g.valid_until, "fr") in text


def test_page_one_as_png_and_a_single_a4_page(guarantee, output_dir):
    version = guarantee.versions.get()
    for language in ("fr", "en"):
        pdf = certificate_pdf(certificate=certificate_issue(version=version, language=language))
        assert _pages(pdf) == 1
        png = pdftoppm_first_page(pdf, output_dir / f"attestation-{language}.png")
        from PIL import Image

        with Image.open(png) as image:
            width, height = image.size
        assert abs(width / height - 210 / 297) < 0.01  # A4 portrait


def test_long_details_still_fit_on_one_page(s, covered, output_dir):
    from tests.builders import active_guarantee

    s.forwarder.name = "Société Sahélienne de Transit, de Transport et de Consignation Maritime et Terrestre SA"
    s.forwarder.address = "Lot 12, parcelle 7, section AB, Zone industrielle de Kossodo\n01 BP 1234 Ouagadougou 01"
    s.forwarder.save()
    g = active_guarantee(s, amount=987_654_321)
    pdf = certificate_pdf(certificate=certificate_issue(version=g.versions.get(), language="fr"))
    assert _pages(pdf) == 1
    pdftoppm_first_page(pdf, output_dir / "attestation-long-details-fr.png")
