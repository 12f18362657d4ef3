"""The migration that gives the guarantees numbered after their primary key a random number
(``guarantees/migrations/0010_random_grn.py``): the old numbers stop answering, certificates already handed out
stay as they were and checkable, a guarantee in force gets a version that prints its new number, the ledger is
untouched and the history says what happened."""

import importlib

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guarantees.grn import GRN_RE, grn_format, grn_is_valid
from guarantees.models import Certificate, Guarantee, GuaranteeAction, GuaranteeStatus
from guarantees.services.certificates import certificate_issue, certificate_pdf
from guarantees.services.guarantees import guarantee_cancel
from guarantees.services.ledger import ledger_verify
from tests.builders import active_guarantee

pytestmark = pytest.mark.django_db

migration = importlib.import_module("guarantees.migrations.0010_random_grn")


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _numbered_by_key(g) -> str:
    """Give ``g`` the number the registry used to compute: its primary key as serial."""
    old = grn_format(year=g.activated_at.year, country=g.country_id, serial=g.pk)
    Guarantee.objects.filter(pk=g.pk).update(grn=old)
    g.refresh_from_db()
    return old


def _renumber():
    migration.renumber(apps, None)


def test_every_number_derived_from_a_key_is_replaced_by_a_random_one(s):
    in_force, without_certificate = active_guarantee(s), active_guarantee(s)
    already_random = active_guarantee(s)
    random_number = already_random.grn
    olds = {g.pk: _numbered_by_key(g) for g in (in_force, without_certificate)}
    old_certificate = certificate_issue(version=in_force.versions.get(), language="fr")
    old_pdf = certificate_pdf(certificate=old_certificate)
    entries_before = list(in_force.entries.values_list("seq", "reference", "hash"))

    _renumber()

    for g in (in_force, without_certificate):
        g.refresh_from_db()
        assert grn_is_valid(g.grn) and g.grn != olds[g.pk]
        assert int(GRN_RE.match(g.grn)["serial"]) != g.pk
        assert g.grn[:4] == olds[g.pk][:4]  # same year and country
        event = g.events.get(action=GuaranteeAction.RENUMBERED)
        assert event.comment.startswith(f"{olds[g.pk]} → {g.grn}")
        assert event.from_status == event.to_status == GuaranteeStatus.ACTIVE
    already_random.refresh_from_db()
    assert already_random.grn == random_number
    assert not already_random.events.filter(action=GuaranteeAction.RENUMBERED).exists()

    # In force and printed: a new version with the same terms prints the new number.
    assert in_force.version == 2
    v1, v2 = in_force.versions.order_by("number")
    assert (v2.amount, v2.valid_from, v2.valid_until) == (v1.amount, v1.valid_from, v1.valid_until)
    assert in_force.events.get(action=GuaranteeAction.RENUMBERED).comment.endswith("(v2)")
    new_certificate = certificate_issue(version=v2, language="fr")
    assert new_certificate.content["grn"] == in_force.grn
    # Never printed: no version needed.
    assert without_certificate.version == 1 and without_certificate.versions.count() == 1

    # The old certificate is the same row, bytes and snapshot, still recognised on upload, and superseded.
    kept = Certificate.objects.with_pdf().get(pk=old_certificate.pk)
    assert (kept.sha256, kept.fingerprint, kept.content["grn"]) == (
        old_certificate.sha256, old_certificate.fingerprint, olds[in_force.pk])
    assert bytes(kept.pdf) == old_pdf
    client = Client()
    html = client.post(reverse("guarantees:verify_start"),
                       {"file": SimpleUploadedFile("a.pdf", old_pdf, content_type="application/pdf")}).content.decode()
    assert 'data-authentic="true"' in html and 'data-testid="renumbered"' in html and in_force.grn in html
    # The computed numbers answer nothing any more; the new ones do.
    for old in olds.values():
        assert client.get(reverse("guarantees:verify", args=[old])).status_code == 404
    assert client.get(reverse("guarantees:verify", args=[in_force.grn])).status_code == 200

    assert ledger_verify() == []
    assert list(in_force.entries.values_list("seq", "reference", "hash")) == entries_before  # immutable


def test_a_closed_guarantee_is_renumbered_without_a_new_version(s):
    g = active_guarantee(s)
    old = _numbered_by_key(g)
    certificate_issue(version=g.versions.get(), language="fr")
    guarantee_cancel(guarantee=g, by=s.supervisor, reason="Fin d'activité")
    _renumber()
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.CLOSED and g.grn != old and grn_is_valid(g.grn)
    assert g.version == 1 and g.versions.count() == 1


def test_running_it_twice_changes_nothing_the_second_time(s):
    g = active_guarantee(s)
    _numbered_by_key(g)
    certificate_issue(version=g.versions.get(), language="fr")
    _renumber()
    g.refresh_from_db()
    state = (g.grn, g.version, g.events.count(), g.versions.count())
    _renumber()
    g.refresh_from_db()
    assert (g.grn, g.version, g.events.count(), g.versions.count()) == state


def test_a_colliding_draw_is_drawn_again(s, monkeypatch):
    from guarantees import grn as grn_module

    taken = active_guarantee(s)
    g = active_guarantee(s)
    old = _numbered_by_key(g)
    draws = [int(GRN_RE.match(taken.grn)["serial"]), 123_456_789_012]
    monkeypatch.setattr(grn_module, "serial_draw", lambda: draws.pop(0))
    _renumber()
    g.refresh_from_db()
    assert g.grn == grn_format(year=int(old[:2]), country="BF", serial=123_456_789_012)
