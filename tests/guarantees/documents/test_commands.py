"""``manage.py certificate_devkey`` (what ``make run`` calls) and ``manage.py benchmark certificates``."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guarantees.documents.signing import pdf_sign, pdf_verify


def test_devkey_creates_a_working_key_once(settings, tmp_path):
    settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "dev" / "registry-dev.p12")
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(tmp_path / "dev" / "registry-dev-root.pem")
    settings.CERTIFICATE_PKCS12_PASSPHRASE = "dev-passphrase"
    out = StringIO()
    call_command("certificate_devkey", stdout=out)
    assert "DEVELOPMENT" in out.getvalue()
    p12 = tmp_path / "dev" / "registry-dev.p12"
    first = p12.read_bytes()
    assert oct(p12.stat().st_mode & 0o777) == "0o600"

    call_command("certificate_devkey", stdout=StringIO())  # present: nothing to do
    assert p12.read_bytes() == first

    from weasyprint import HTML

    signed = pdf_sign(HTML(string="<p>x</p>").write_pdf(), reason="test")
    assert pdf_verify(signed).ok

    call_command("certificate_devkey", "--force", stdout=StringIO())
    assert p12.read_bytes() != first


def test_devkey_refuses_half_a_pair(settings, tmp_path):
    settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "k.p12")
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(tmp_path / "root.pem")
    (tmp_path / "k.p12").write_bytes(b"x")
    with pytest.raises(CommandError, match="--force"):
        call_command("certificate_devkey", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_benchmark_certificates():
    out = StringIO()
    call_command("benchmark", "certificates", "--count", "3", "--warmup", "1", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())
    assert result["benchmark"] == "certificates" and result["count"] == 3
    assert result["key"] == "configured"
    for part in ("render_and_sign", "render", "sign"):
        assert {"median_ms", "p95_ms", "min_ms", "max_ms"} <= result[part].keys()
        assert 0 < result[part]["median_ms"] <= result[part]["p95_ms"] <= result[part]["max_ms"]
    assert result["last_pdf_verifies"] is True
    assert result["aim"]["median_ms"] == 250.0
