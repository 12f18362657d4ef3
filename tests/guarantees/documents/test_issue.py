"""Issuing: after activation and after every amendment (a task queued on commit), once per version and
language, stored with its SHA-256 and never changed; a task run twice does nothing the second time."""

import hashlib
import logging

import pytest

from guarantees.models import Certificate
from guarantees.services import certificates as service
from guarantees.tasks import render_certificates
from tests.builders import active_guarantee
from tests.guarantees.documents.conftest import amend

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders(monkeypatch):
    """Counts the renders (the expensive part) the service does."""
    calls = []
    real = service.certificate_render

    def counting(**kwargs):
        calls.append(kwargs["language"])
        return real(**kwargs)

    monkeypatch.setattr(service, "certificate_render", counting)
    return calls


def test_activation_queues_the_french_certificate_on_commit(s, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        g = active_guarantee(s, amount=50_000_000)
    (certificate,) = Certificate.objects.filter(guarantee=g)
    assert (certificate.number, certificate.language) == (1, "fr")
    assert certificate.version == g.versions.get(number=1)


def test_nothing_is_rendered_before_the_commit(s, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        g = active_guarantee(s)
    assert not Certificate.objects.filter(guarantee=g).exists()
    assert callbacks  # queued for after the commit


def test_every_amendment_gets_its_certificate(s, guarantee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        amend(s, guarantee, amount=60_000_000)
        amend(s, guarantee, amount=40_000_000, days=10)
    numbers = sorted(Certificate.objects.filter(guarantee=guarantee).values_list("number", flat=True))
    assert numbers == [2, 3]  # version 1 was activated outside the capture (no commit in a test)


def test_task_twice_renders_once(guarantee, renders):
    first = render_certificates(guarantee_id=guarantee.pk, number=1)
    second = render_certificates(guarantee_id=guarantee.pk, number=1)
    assert first == second and len(first) == 1
    assert renders == ["fr"]
    assert Certificate.objects.filter(guarantee=guarantee).count() == 1


def test_task_renders_each_configured_language(settings, guarantee, renders):
    settings.CERTIFICATE_LANGUAGES = ["fr", "en"]
    render_certificates(guarantee_id=guarantee.pk, number=1)
    assert sorted(renders) == ["en", "fr"]


def test_task_for_a_missing_version_does_nothing(guarantee, renders):
    assert render_certificates(guarantee_id=guarantee.pk, number=9) == []
    assert render_certificates(guarantee_id=10**9, number=1) == []
    assert renders == []


def test_a_race_lost_after_rendering_keeps_the_first(guarantee, monkeypatch):
    """Two workers render the same version at once: the second finds the first stored under the lock."""
    version = guarantee.versions.get()
    real = service.certificate_render

    def render_while_another_stores(**kwargs):
        result = real(**kwargs)
        monkeypatch.setattr(service, "certificate_render", real)
        service.certificate_issue(version=version, language="fr")  # the other worker wins meanwhile
        return result

    monkeypatch.setattr(service, "certificate_render", render_while_another_stores)
    winner = Certificate.objects.filter(version=version)
    kept = service.certificate_issue(version=version, language="fr")
    assert winner.count() == 1 and kept.pk == winner.get().pk


def test_stored_with_its_hash_and_never_changed(guarantee):
    certificate = service.certificate_issue(version=guarantee.versions.get(), language="fr")
    pdf = service.certificate_pdf(certificate=certificate)
    assert pdf.startswith(b"%PDF-")
    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()
    assert certificate.size == len(pdf)
    assert certificate.fingerprint == service.content_fingerprint(certificate.content)
    with pytest.raises(ValueError, match="never changed"):
        certificate.save()
    # Listing certificates does not load the PDF bytes.
    listed = guarantee.versions.get().certificates.get()
    assert "pdf" in listed.get_deferred_fields()


def test_a_missing_key_is_logged_not_raised(s, settings, tmp_path, caplog, django_capture_on_commit_callbacks):
    settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "absent.p12")
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        g = active_guarantee(s)
    assert g.status == "active"
    assert not Certificate.objects.filter(guarantee=g).exists()
    assert "render_certificates failed" in caplog.text and "certificate_devkey" in caplog.text


def test_unknown_language_is_refused(guarantee):
    with pytest.raises(ValueError):
        service.certificate_issue(version=guarantee.versions.get(), language="de")
