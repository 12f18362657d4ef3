"""The bank starts an amendment: its maker prepares it (an extension on its own decision, a change of the amount at
the principal's request by letter), a different checker confirms it on the desk of any amendment, the principal is
told when it starts and when it is confirmed."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from guarantees.errors import InvalidTransition, NotAllowed, ReasonRequired, SameMakerAndChecker
from guarantees.limits import AmountOutOfRange
from guarantees.models import Amendment, AmendmentStatus, Notification
from guarantees.services.amendments import amendment_confirm, amendment_start_by_bank
from guarantees.terms import amendment_terms
from tests.accounts.helpers import give_totp, sign_in_as
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(db):
    return scene("BF")


def test_an_extension_by_the_bank_is_confirmed_by_another_person_and_the_principal_is_told(s):
    g = active_guarantee(s)
    until = g.valid_until + datetime.timedelta(days=90)
    amendment = amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=g.amount, new_valid_until=until)
    assert amendment.status == AmendmentStatus.PREPARED and amendment.initiated_by_bank
    assert Notification.objects.filter(recipient=s.agent, event="amendment_started_by_bank").exists()
    with pytest.raises((NotAllowed, SameMakerAndChecker)):  # the maker never confirms her own preparation
        amendment_confirm(amendment=amendment, by=s.maker, expected=amendment_terms(amendment, g))
    done = amendment_confirm(amendment=amendment, by=s.checker, expected=amendment_terms(amendment, g))
    g.refresh_from_db()
    assert done.status == AmendmentStatus.CONFIRMED and g.valid_until == until and g.version == 2
    assert Notification.objects.filter(recipient=s.agent, event="amendment_confirmed").exists()


def test_a_reduction_needs_the_principals_letter(s):
    g = active_guarantee(s, amount=50_000_000)
    with pytest.raises(ReasonRequired):
        amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=30_000_000, new_valid_until=g.valid_until)
    assert not Amendment.objects.exists()
    amendment = amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=30_000_000,
                                        new_valid_until=g.valid_until, letter_reference="L-2026-17")
    amendment_confirm(amendment=amendment, by=s.checker, expected=amendment_terms(amendment, g))
    g.refresh_from_db()
    assert g.amount == 30_000_000


@pytest.mark.parametrize("who", ["agent", "officer", "checker"])
def test_only_the_banks_maker_starts_one(s, who):
    g = active_guarantee(s)
    with pytest.raises(NotAllowed):
        amendment_start_by_bank(guarantee=g, by=getattr(s, who), new_amount=g.amount,
                                new_valid_until=g.valid_until + datetime.timedelta(days=1))
    assert not Amendment.objects.exists()


def test_an_amount_out_of_range_or_a_second_open_amendment_is_refused(s):
    g = active_guarantee(s)
    with pytest.raises(AmountOutOfRange):
        amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=2**63, new_valid_until=g.valid_until,
                                letter_reference="L-1")
    amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=g.amount,
                            new_valid_until=g.valid_until + datetime.timedelta(days=10))
    with pytest.raises(InvalidTransition):
        amendment_start_by_bank(guarantee=g, by=s.maker, new_amount=g.amount,
                                new_valid_until=g.valid_until + datetime.timedelta(days=20))
    assert Amendment.objects.count() == 1


def test_the_maker_starts_it_on_a_page_and_a_bad_amount_is_a_form_error(s):
    g = active_guarantee(s)
    give_totp(s.maker)
    client = sign_in_as(Client(), s.maker)
    url = reverse("guarantees:amend_by_bank", args=[g.pk])
    assert url in client.get(reverse("guarantees:detail", args=[g.pk])).content.decode()
    response = client.post(url, {"new_amount": str(2**64), "new_valid_until": g.valid_until.isoformat()})
    assert response.status_code == 200 and not Amendment.objects.exists()
    response = client.post(url, {"new_amount": str(g.amount),
                                 "new_valid_until": (g.valid_until + datetime.timedelta(days=30)).isoformat()})
    assert response.status_code == 302
    assert Amendment.objects.get().initiated_by_bank


def test_a_forwarder_cannot_open_the_banks_page(s):
    g = active_guarantee(s)
    client = sign_in_as(Client(), s.agent)
    assert client.get(reverse("guarantees:amend_by_bank", args=[g.pk])).status_code == 403
