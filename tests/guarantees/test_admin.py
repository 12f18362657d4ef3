"""The admin of the registry models is a read-only window: pages open, balances and the ledger cannot change."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User
from guarantees.models import Amendment, Bank, Guarantee, GuaranteeEvent, Hold, LedgerEntry
from guarantees.services.amendments import amendment_request
from guarantees.services.holds import hold_reserve
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, scene


@pytest.fixture
def superuser_client(db):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = User.objects.create_superuser(email="root@secretariat.aes", password="x" * 12)
    TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


@pytest.fixture
def g(db):
    s = scene()
    guarantee = active_guarantee(s)
    hold_reserve(guarantee=guarantee, amount=1_000_000, reference="TG-T-1")
    amendment_request(guarantee=guarantee, by=s.agent, new_amount=60_000_000, new_valid_until=guarantee.valid_until)
    return guarantee


@pytest.mark.parametrize("model", [Bank, Guarantee, Amendment, Hold, LedgerEntry, GuaranteeEvent])
def test_changelist_and_object_pages_open(superuser_client, g, model):
    opts = model._meta
    assert superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    obj = model.objects.first()
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert superuser_client.get(url).status_code == 200


@pytest.mark.parametrize("model", [LedgerEntry, GuaranteeEvent, Hold, Amendment])
def test_money_and_trail_cannot_be_added_changed_or_deleted(rf, model):
    request = rf.get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_guarantee_balances_are_read_only(rf):
    request = rf.get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[Guarantee]
    readonly = set(model_admin.get_readonly_fields(request))
    assert {"amount", "held", "claimed", "paid", "status", "grn", "ledger_hash"} <= readonly
    assert not model_admin.has_add_permission(request) and not model_admin.has_delete_permission(request)
