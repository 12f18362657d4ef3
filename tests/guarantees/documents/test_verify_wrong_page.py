"""The verify page names the guarantee and version an uploaded certificate belongs to, refuses one of another
guarantee on a guarantee's page, and says each check in words — never a passing line under a refusal."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guarantees.services.certificates import certificate_issue, certificate_pdf
from tests.builders import active_guarantee

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _pdf(g) -> bytes:
    return certificate_pdf(certificate=certificate_issue(version=g.versions.get(number=1), language="fr"))


def _upload(g, data: bytes):
    return Client().post(reverse("guarantees:verify", args=[g.grn]),
                         {"file": SimpleUploadedFile("a.pdf", data, content_type="application/pdf")})


def test_a_certificate_uploaded_on_another_guarantees_page_is_refused_and_named(s, guarantee):
    other = active_guarantee(s, amount=5_000_000)
    html = _upload(other, _pdf(guarantee)).content.decode()
    assert 'data-authentic="false"' in html
    assert 'data-testid="wrong-guarantee"' in html and guarantee.grn in html
    assert "Échoué" in html and "Réussi" not in html  # only what failed, in words


def test_on_its_own_page_every_check_is_said_passed_in_words(s, guarantee):
    html = _upload(guarantee, _pdf(guarantee)).content.decode()
    assert 'data-authentic="true"' in html
    checks = html[html.index('data-testid="checks"'):].split("</ul>", 1)[0]
    assert checks.count("Réussi") == 6 and "Échoué" not in checks


def test_a_changed_file_lists_only_what_failed(s, guarantee):
    data = bytearray(_pdf(guarantee))
    data[len(data) // 2] ^= 0x01
    html = _upload(guarantee, bytes(data)).content.decode()
    assert 'data-authentic="false"' in html
    checks = html[html.index('data-testid="checks"'):].split("</ul>", 1)[0] if 'data-testid="checks"' in html else ""
    assert "Réussi" not in checks

