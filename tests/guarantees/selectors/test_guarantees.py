"""``guarantees_visible_to`` and ``guarantee_trail``: what each organisation may see of guarantees.

A forwarder sees its own (drafts included); a bank those it was asked for or issued, never a draft nor another
bank's; customs the guarantees issued in their country once the bank has confirmed them (never another
country's: a check at the border goes through the GRN look-up with an access code); the secretariat every one
but drafts; anyone else none."""

import pytest
from django.contrib.auth.models import AnonymousUser

from guarantees.models import GuaranteeStatus
from guarantees.selectors.guarantees import guarantee_trail, guarantees_visible_to
from guarantees.services.guarantees import guarantee_prepare
from tests.builders import confirmed_guarantee, requested_guarantee
from tests.builders import world as build_world
from tests.factories import UserFactory


@pytest.fixture
def world(db):
    """Forwarder A at bank X (``s``) and forwarder B at bank Y (``other``), both of Burkina Faso, each with an
    active guarantee; A also has a draft, a submitted, a prepared and a confirmed one. Togo's customs."""
    w = build_world(second=True, customs=("TG",), people=("tg_officer", "secretariat"), reference=False)
    w.draft = requested_guarantee(w.s, submit=False)
    w.submitted = requested_guarantee(w.s)
    w.prepared = guarantee_prepare(guarantee=requested_guarantee(w.s), by=w.s.maker, comment="Vérifier le RCCM.")
    w.confirmed = confirmed_guarantee(w.s)
    assert (w.draft.status, w.submitted.status, w.prepared.status, w.confirmed.status) == (
        GuaranteeStatus.DRAFT, GuaranteeStatus.SUBMITTED, GuaranteeStatus.PREPARED, GuaranteeStatus.BANK_CONFIRMED)
    return w


def seen(world, user) -> set[str]:
    names = {
        world.guarantee.pk: "active", world.other_guarantee.pk: "other_active", world.draft.pk: "draft",
        world.submitted.pk: "submitted", world.prepared.pk: "prepared", world.confirmed.pk: "confirmed",
    }
    return {names[pk] for pk in guarantees_visible_to(user=user).values_list("pk", flat=True)}


def test_a_forwarder_sees_its_own_guarantees_and_never_another_forwarders(world):
    assert seen(world, world.s.agent) == {"active", "draft", "submitted", "prepared", "confirmed"}
    assert seen(world, world.other.agent) == {"other_active"}


def test_a_bank_sees_what_it_was_asked_for_or_issued_but_no_draft_and_never_another_banks(world):
    mine = {"active", "submitted", "prepared", "confirmed"}
    assert seen(world, world.s.maker) == seen(world, world.s.checker) == mine
    assert seen(world, world.other.checker) == {"other_active"}


def test_customs_see_their_countrys_guarantees_once_the_bank_confirmed_them_and_no_other_countrys(world):
    # Confirmed by the bank: waiting for these customs to accept it. Still at the bank: not theirs yet.
    assert seen(world, world.s.officer) == seen(world, world.s.supervisor) == {"active", "other_active", "confirmed"}
    assert seen(world, world.tg_officer) == set()  # issued in Burkina Faso: Togo checks them by access code


def test_the_secretariat_sees_every_guarantee_but_drafts(world):
    assert seen(world, world.secretariat) == {"active", "other_active", "submitted", "prepared", "confirmed"}


def test_no_organisation_no_guarantee(world):
    assert seen(world, AnonymousUser()) == set()
    assert seen(world, UserFactory()) == set()


def test_the_makers_comment_is_read_by_the_bank_and_the_secretariat_only(world):
    def comments(user) -> list[str]:
        return [e.shown_comment for e in guarantee_trail(guarantee=world.prepared, user=user) if e.internal]

    assert comments(world.s.checker) == comments(world.secretariat) == ["Vérifier le RCCM."]
    assert comments(world.s.agent) == [""]  # the principal sees that the bank prepared it, not what it noted
