"""The registry's PAdES signature: pyHanko validates it as intact, trusted against the configured root and
covering the whole file; another root does not trust it; a changed byte or an appended update breaks it."""

from io import BytesIO
from pathlib import Path

import pytest

from guarantees.documents.devcert import devcert_create
from guarantees.documents.signing import keywords_parse, pdf_sign, pdf_verify, trust_roots
from guarantees.services.certificates import certificate_issue, certificate_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(guarantee) -> bytes:
    return certificate_pdf(certificate=certificate_issue(version=guarantee.versions.get(), language="fr"))


def _validate(pdf: bytes, roots):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    return embedded, validate_pdf_signature(embedded, signer_validation_context=context)


def test_pyhanko_validates_intact_trusted_whole_file(signed):
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    embedded, status = _validate(signed, trust_roots())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    # PAdES baseline (ETSI.CAdES.detached), certifying the document with "no changes allowed".
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.docmdp_level is not None and embedded.docmdp_level.value == 1
    assert "Registre de la caution unique" in status.signing_cert.subject.human_friendly


def test_another_root_does_not_trust_it(signed, tmp_path):
    other = devcert_create(pkcs12_path=tmp_path / "o.p12", root_path=tmp_path / "o.pem", passphrase="x")
    from asn1crypto import pem, x509

    _type, _headers, der = pem.unarmor(Path(other.root_path).read_bytes())
    _embedded, status = _validate(signed, [x509.Certificate.load(der)])
    assert status.intact and status.valid
    assert not status.trusted


def test_pdf_verify_of_the_stored_file(signed, guarantee):
    check = pdf_verify(signed)
    assert check.ok
    assert check.metadata["grn"] == guarantee.grn and check.metadata["version"] == "1"
    assert check.metadata["language"] == "fr"


def test_a_byte_changed_in_the_signed_content_breaks_it(signed):
    data = bytearray(signed)
    start = data.index(b"stream", 100) + 40  # inside the first content stream (signed range)
    data[start] ^= 0x01
    check = pdf_verify(bytes(data))
    assert not check.ok
    assert not check.intact


def test_an_update_appended_after_signing_is_seen(signed):
    from pyhanko.pdf_utils.generic import TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = TextStringObject("en")  # a harmless-looking change, in a new revision
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    check = pdf_verify(out.getvalue())
    assert check.intact and check.valid and check.trusted
    assert not check.whole_file
    assert not check.ok


def test_an_unsigned_pdf_and_a_non_pdf():
    from weasyprint import HTML

    unsigned = pdf_verify(HTML(string="<p>Attestation</p>").write_pdf())
    assert unsigned.readable and not unsigned.signed and not unsigned.ok
    garbage = pdf_verify(b"GIF89a not a pdf at all")
    assert not garbage.readable and not garbage.ok


def test_keywords_round_trip():
    assert keywords_parse("caution-unique; grn=26BF000000000001-87; version=2") == {
        "grn": "26BF000000000001-87", "version": "2",
    }
    assert keywords_parse("something else; grn=X") == {}


def test_signing_without_a_key_says_how_to_make_one(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "missing.p12")
    with pytest.raises(ImproperlyConfigured, match="certificate_devkey"):
        pdf_sign(b"%PDF-1.7", reason="x")


def test_a_wrong_passphrase_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CERTIFICATE_PKCS12_PASSPHRASE = "wrong"
    with pytest.raises(ImproperlyConfigured, match="PASSPHRASE"):
        pdf_sign(b"%PDF-1.7", reason="x")
