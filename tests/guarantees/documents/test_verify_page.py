"""The public verification page: no sign-in, where a version stands, no balance, the uploaded PDF checked
against the signature and the register, French 404 for an unknown GRN, 429 beyond the limit."""

import datetime

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from guarantees.models import GuaranteeStatus
from guarantees.services.certificates import certificate_issue, certificate_pdf
from guarantees.services.guarantees import guarantee_cancel, guarantee_suspend
from tests.guarantees.documents.conftest import BANK_NAME, PRINCIPAL, amend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _url(g, version=None):
    url = reverse("guarantees:verify", args=[g.grn])
    return f"{url}?v={version}" if version else url


def _pdf(g, number=1, language="fr") -> bytes:
    return certificate_pdf(certificate=certificate_issue(version=g.versions.get(number=number), language=language))


def _upload(client, url, data: bytes, name="attestation.pdf"):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="application/pdf")})


def _standing(response) -> str:
    html = response.content.decode()
    marker = 'data-standing="'
    return html[html.index(marker) + len(marker):].split('"', 1)[0]


def test_qr_code_url_shows_a_valid_version_to_anyone(guarantee):
    certificate_issue(version=guarantee.versions.get(), language="fr")
    response = Client().get(_url(guarantee, 1))
    assert response.status_code == 200
    assert _standing(response) == "valid"
    html = response.content.decode()
    assert guarantee.grn in html and PRINCIPAL["name"] in html and BANK_NAME in html
    assert "71\u202f750\u202f000\u00a0FCFA" in html
    assert guarantee.valid_until.strftime("%d/%m/%Y") in html
    assert guarantee.versions.get().certificates.get().fingerprint_display in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    with translation.override("fr"):  # no balance, no transit
        for hidden in ("Held by transits", "Available", "Holds of transits", "Ledger"):
            assert gettext(hidden) not in html, hidden


def test_signed_in_users_of_any_kind_see_it_too(s, guarantee):
    client = Client()
    client.force_login(s.maker)  # a bank user without TOTP: /verify/ is let through by the MFA guard
    assert client.get(_url(guarantee)).status_code == 200


def test_unknown_grn_and_version_are_the_french_404(guarantee):
    client = Client()
    for url in (reverse("guarantees:verify", args=["26BF000000099999-99"]), _url(guarantee, 7),
                f"{_url(guarantee)}?v=abc"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page introuvable" in response.content.decode()


def test_a_grn_typed_in_lower_case_is_redirected(guarantee):
    response = Client().get(reverse("guarantees:verify", args=[guarantee.grn.lower()]) + "?v=1")
    assert response.status_code == 302
    assert response["Location"] == _url(guarantee, 1)


def test_superseded_version_says_so(s, guarantee):
    g = amend(s, guarantee, amount=60_000_000)
    response = Client().get(_url(g, 1))
    assert _standing(response) == "superseded"
    html = response.content.decode()
    with translation.override("fr"):
        assert gettext("Superseded by version %(current)s") % {"current": 2} in html
    assert 'href="?v=2"' in html  # a link to the current version
    assert _standing(Client().get(_url(g, 2))) == "valid"
    assert _standing(Client().get(_url(g))) == "valid"  # no version: the current one


def test_suspended_expired_cancelled_closed(s, guarantee):
    client = Client()
    guarantee_suspend(guarantee=guarantee, by=s.supervisor, reason="Contrôle")
    assert _standing(client.get(_url(guarantee, 1))) == "suspended"

    from guarantees.models import Guarantee

    Guarantee.objects.filter(pk=guarantee.pk).update(status=GuaranteeStatus.ACTIVE)
    guarantee.refresh_from_db()
    guarantee.versions.filter(number=1).update(valid_until=datetime.date.today() - datetime.timedelta(days=1))
    assert _standing(client.get(_url(guarantee, 1))) == "expired"

    guarantee_cancel(guarantee=guarantee, by=s.supervisor, reason="Fin d'activité")
    guarantee.refresh_from_db()
    assert guarantee.status == GuaranteeStatus.CLOSED  # nothing held: closed at once
    assert _standing(client.get(_url(guarantee, 1))) == "closed"


def test_uploaded_genuine_certificate(guarantee):
    response = _upload(Client(), _url(guarantee), _pdf(guarantee))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-authentic="true"' in html
    assert guarantee.grn in html


def test_uploaded_superseded_certificate_is_genuine_but_superseded(s, guarantee):
    old = _pdf(guarantee, 1)
    amend(s, guarantee, amount=60_000_000)
    response = _upload(Client(), reverse("guarantees:verify_start"), old)
    html = response.content.decode()
    assert 'data-authentic="true"' in html
    with translation.override("fr"):
        expected = gettext("This version is no longer current: it is superseded by version %(current)s.")
    assert expected.replace("%(current)s", "2") in html


def test_one_byte_changed_in_the_content_is_not_valid(guarantee):
    data = bytearray(_pdf(guarantee))
    data[data.index(b"stream", 100) + 40] ^= 0x01
    html = _upload(Client(), _url(guarantee), bytes(data)).content.decode()
    assert 'data-authentic="false"' in html


def test_one_byte_changed_outside_the_signed_range_is_not_valid_either(guarantee):
    """The signature's own padding is not covered by the signature: only the register's hash sees it."""
    data = bytearray(_pdf(guarantee))
    contents = data.index(b"/Contents <")
    end = data.index(b">", contents)
    assert data[end - 10:end] == b"0" * 10  # unused room after the signature container
    data[end - 10] = ord("1")
    response = _upload(Client(), _url(guarantee), bytes(data))
    assert 'data-authentic="false"' in response.content.decode()


def test_an_unsigned_pdf_and_a_non_pdf_are_not_valid(guarantee):
    from weasyprint import HTML

    client = Client()
    for data in (HTML(string="<h1>Attestation de caution unique</h1>").write_pdf(), b"not a pdf"):
        html = _upload(client, _url(guarantee), data).content.decode()
        assert 'data-authentic="false"' in html


def test_an_oversized_upload_is_refused(settings, guarantee):
    settings.CERTIFICATE_UPLOAD_MAX_BYTES = 1024
    response = _upload(Client(), _url(guarantee), b"%PDF-" + b"0" * 2048)
    assert response.status_code == 200
    assert "data-upload-result" not in response.content.decode() and 'data-authentic' not in response.content.decode()


def test_rate_limited_per_client(settings, guarantee):
    settings.CERTIFICATE_VERIFY_RATE_LIMIT = 3
    client = Client()
    for _ in range(3):
        assert client.get(_url(guarantee)).status_code == 200
    response = client.get(_url(guarantee))
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert response["Retry-After"]
    # Another address is counted apart.
    assert Client(REMOTE_ADDR="10.1.2.3").get(_url(guarantee)).status_code == 200


def test_behind_the_proxy_each_real_client_is_counted_and_a_forged_header_resets_nothing(settings, guarantee):
    """Every request reaches the application from the proxy (10.0.0.1), which appends the address it received
    the request from to X-Forwarded-For. What the client wrote before it is its own invention."""
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    settings.CERTIFICATE_VERIFY_RATE_LIMIT = 3

    def through_proxy(forwarded_for):
        return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for).get(_url(guarantee))

    for n in range(3):
        assert through_proxy(f"203.0.113.{n}, 198.51.100.7").status_code == 200
    # A fresh forged address in front of the real one each time: still the same client, refused.
    for n in range(3, 6):
        assert through_proxy(f"203.0.113.{n}, 198.51.100.7").status_code == 429
    assert through_proxy("198.51.100.7").status_code == 429
    # Another real client behind the same proxy is not held back by the first one.
    assert through_proxy("198.51.100.8").status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_block(settings, guarantee):
    settings.CERTIFICATE_VERIFY_RATE_LIMIT = 2
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        assert Client(REMOTE_ADDR=host).get(_url(guarantee)).status_code == 200
    assert Client(REMOTE_ADDR="2001:db8:1:2:ffff::9").get(_url(guarantee)).status_code == 429
    assert Client(REMOTE_ADDR="2001:db8:1:3::1").get(_url(guarantee)).status_code == 200
    # An IPv4 client seen through an IPv6 socket is that IPv4 client.
    assert Client(REMOTE_ADDR="::ffff:192.0.2.1").get(_url(guarantee)).status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get(_url(guarantee)).status_code == 200
    assert Client(REMOTE_ADDR="::ffff:192.0.2.1").get(_url(guarantee)).status_code == 429


def test_walking_numbers_is_stopped_after_a_few_misses(settings, guarantee):
    """The attack: try well-formed numbers (right check digits) of the year and country one after another.
    A few misses and the client sees nothing more, not even a number that exists."""
    from guarantees.grn import grn_format

    settings.CERTIFICATE_VERIFY_MISS_LIMIT = 3
    client = Client()
    year = guarantee.activated_at.year
    walked = [grn_format(year=year, country="BF", serial=n) for n in range(1, 4)]
    assert guarantee.grn not in walked
    for number in walked:
        assert client.get(reverse("guarantees:verify", args=[number])).status_code == 404
    assert client.get(_url(guarantee)).status_code == 429
    assert client.get(reverse("guarantees:verify_start")).status_code == 429
    # Another client with the number sees it.
    assert Client(REMOTE_ADDR="10.9.9.9").get(_url(guarantee)).status_code == 200


def test_typos_caught_by_the_check_digits_are_not_misses(settings, guarantee):
    settings.CERTIFICATE_VERIFY_MISS_LIMIT = 2
    client = Client()
    typo = guarantee.grn[:-2] + f"{(int(guarantee.grn[-2:]) + 1) % 100:02d}"
    for _ in range(5):
        assert client.get(reverse("guarantees:verify", args=[typo])).status_code == 404
    assert client.get(_url(guarantee)).status_code == 200


# --- Uploads refused before they are read ----------------------------------------------------------


class _Body:
    """A request body of ``size`` bytes (multipart ``head`` then filler) that counts what the server reads and
    fails the test if it reads more than ``allowed``."""

    def __init__(self, size: int, *, allowed: int, head: bytes = b""):
        self.size, self.allowed, self.head, self.read_bytes = size, allowed, head, 0

    def read(self, n=-1):
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        if self.read_bytes + n > self.allowed:
            raise AssertionError(f"the server read past {self.allowed} bytes of a {self.size}-byte body")
        start, self.read_bytes = self.read_bytes, self.read_bytes + n
        chunk = self.head[start:start + n]
        return chunk + b"0" * (n - len(chunk))

    def readline(self, *args):
        return self.read(*args)


def _csrf_client(guarantee):
    """A browser that got the page (so a CSRF cookie and token) and whose POSTs are checked for CSRF, as in
    production: the CSRF middleware reads the body unless something refuses it first."""
    client = Client(enforce_csrf_checks=True)
    client.get(_url(guarantee))
    return client, client.cookies["csrftoken"].value


def test_a_200_mb_upload_is_refused_before_its_body_is_read(guarantee):
    from django.test.client import MULTIPART_CONTENT

    client, _token = _csrf_client(guarantee)
    size = 200 * 1024 * 1024
    body = _Body(size, allowed=0)
    for url in (_url(guarantee), reverse("guarantees:verify_start")):
        response = client.generic("POST", url, b"", **{
            "CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(size), "wsgi.input": body,
        })
        assert response.status_code == 413
        assert 'data-testid="too-large"' in response.content.decode()
        assert "5 Mo" in response.content.decode() or "5 MB" in response.content.decode()
    assert body.read_bytes == 0


def test_a_file_above_the_limit_is_cut_off_while_it_streams(settings, monkeypatch, guarantee):
    """A body whose declared length does not give it away (chunked, or a lie within the room left for the
    other fields) is read only up to the limit, and the page says the file is too large."""
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    import guarantees.web.uploads

    monkeypatch.setattr(guarantees.web.uploads, "FORM_OVERHEAD_BYTES", 64 * 1024 * 1024)
    settings.CERTIFICATE_UPLOAD_MAX_BYTES = 1024 * 1024
    client, token = _csrf_client(guarantee)
    big = 20 * 1024 * 1024
    head = encode_multipart(BOUNDARY, {"csrfmiddlewaretoken": token,
                                       "file": SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * big)})
    body = _Body(len(head), allowed=1024 * 1024 + 256 * 1024, head=head)
    response = client.generic("POST", _url(guarantee), b"", **{
        "CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(head)), "wsgi.input": body,
    })
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override("fr"):
        too_large = gettext("The file is too large (at most %(size)s MB): a certificate is far smaller.")
    assert too_large.replace("%(size)s", "1") in html.replace("&#x27;", "'").replace("&#39;", "'")
    assert "data-authentic" not in html
    assert body.read_bytes < 1024 * 1024 + 256 * 1024


def test_the_page_without_grn_redirects_a_typed_grn(guarantee):
    client = Client()
    assert client.get(reverse("guarantees:verify_start")).status_code == 200
    response = client.get(reverse("guarantees:verify_start"), {"grn": guarantee.grn.lower()})
    assert response.status_code == 302 and response["Location"] == _url(guarantee)
