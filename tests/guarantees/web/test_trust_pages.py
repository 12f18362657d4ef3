"""The secretariat's view of what the registry refused and of its signed ledger checkpoints; customs see the
events they sent that were refused — but never one that would tell them of a transit they may not see."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from guarantees.models import EventStatus
from guarantees.services.checkpoints import checkpoint_signature_problem, ledger_checkpoint_create
from guarantees.services.events import transit_event_receive
from tests.accounts.helpers import sign_in_as
from tests.factories import CustomsFactory, country, member
from tests.builders import declare, enrolled, transits_world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry_signing_key")]


@pytest.fixture
def world(db):
    """The lean world of the background work (``tests.builders.transits_world``)."""
    return transits_world()


@pytest.fixture
def refused(world):
    declare(world, "RF-1", amount=1_000_000)
    now = timezone.now().replace(microsecond=0).isoformat()
    # Burkina Faso (on the route) cancels what Togo declared: refused, and Burkina may know why.
    cancel, _ = transit_event_receive(sender=world.burkina, data={
        "message_id": "BF-C", "declaration_ref": "RF-1", "type": "cancellation", "office": "BFCINK",
        "occurred_at": now})
    # Mali (off the route) reports a discharge: refused, and Mali must not learn that RF-1 exists.
    mali = CustomsFactory(country=country("ML"))
    hidden, _ = transit_event_receive(sender=mali, data={
        "message_id": "ML-D", "declaration_ref": "RF-1", "type": "discharge", "office": "MLBAMA",
        "occurred_at": now})
    assert cancel.status == hidden.status == EventStatus.REJECTED
    people = {"agent": world.s.agent, "officer_bf": world.s.officer, "officer_tg": world.tg_officer,
              "officer_ml": enrolled(member(mali, Role.CUSTOMS_OFFICER)), "secretariat": world.secretariat}
    return people


def _get(user, url_name, *args):
    client = sign_in_as(Client(), user)
    return client.get(reverse(f"guarantees:{url_name}", args=args))


def test_the_secretariat_sees_every_refused_event_with_its_reason(refused):
    response = _get(refused["secretariat"], "refused_events")
    html = response.content.decode()
    assert response.status_code == 200
    assert "BF-C" in html and "sender_not_allowed" in html
    assert "ML-D" in html and "not_on_route" in html


def test_customs_see_their_own_refusals_but_not_one_that_would_reveal_a_transit(refused):
    burkina = _get(refused["officer_bf"], "refused_events").content.decode()
    assert "BF-C" in burkina and "ML-D" not in burkina
    mali = _get(refused["officer_ml"], "refused_events").content.decode()
    assert "ML-D" not in mali and "RF-1" not in mali


@pytest.mark.parametrize("role", ["agent"])
def test_forwarders_do_not_see_refused_events(refused, role):
    assert _get(refused[role], "refused_events").status_code == 403


def test_only_the_secretariat_reaches_the_ledger_checkpoints(refused):
    checkpoint = ledger_checkpoint_create()
    for role in ("agent", "officer_bf", "officer_tg"):
        assert _get(refused[role], "ledger_checkpoints").status_code == 403
        assert _get(refused[role], "ledger_checkpoint_download", checkpoint.pk).status_code == 403
    page = _get(refused["secretariat"], "ledger_checkpoints")
    assert page.status_code == 200 and checkpoint.digest[:12] in page.content.decode()
    download = _get(refused["secretariat"], "ledger_checkpoint_download", checkpoint.pk)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    data = json.loads(download.content)
    assert checkpoint_signature_problem(data) == ""  # the file verifies on its own, outside the registry
