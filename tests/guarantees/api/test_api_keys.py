"""API keys: issued once in clear, stored as a hash, found by prefix, revocable; the command prints the key."""

import datetime
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from accounts.models import ApiKey
from accounts.roles import Role
from guarantees.errors import NotAllowed
from tests.factories import CustomsFactory, ForwarderFactory, SecretariatFactory, country, member


@pytest.fixture
def customs_bf(db):
    return CustomsFactory(country=country("BF"))


def test_key_format_and_only_a_hash_is_stored(customs_bf):
    api_key, raw = api_key_create(organisation=customs_bf, name="SIDONIA BF")
    cu, prefix, secret = raw.split("_", 2)
    assert cu == "cu" and len(prefix) == 8 and prefix == api_key.prefix and len(secret) >= 32
    assert api_key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())


def test_authenticate_finds_the_live_key_only(customs_bf):
    api_key, raw = api_key_create(organisation=customs_bf, name="SIDONIA BF")
    assert api_key_authenticate(raw) == api_key
    assert api_key_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert api_key_authenticate(f"cu_{api_key.prefix}_wrong") is None
    assert api_key_authenticate("cu_zzzzzzzz_whatever") is None
    assert api_key_authenticate("not a key") is None
    assert api_key_authenticate("") is None
    api_key_revoke(api_key=api_key)
    assert api_key_authenticate(raw) is None


def test_last_used_at_is_written_at_most_once_a_minute(customs_bf, django_assert_num_queries):
    api_key, raw = api_key_create(organisation=customs_bf, name="SIDONIA BF")
    assert api_key_authenticate(raw).last_used_at is not None
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    with django_assert_num_queries(1):  # the look-up only, no write
        api_key_authenticate(raw)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    api_key_authenticate(raw)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first


def test_only_customs_administrations_get_keys(db):
    with pytest.raises(NotAllowed):
        api_key_create(organisation=ForwarderFactory(), name="x")


def test_only_the_secretariat_issues_and_revokes(customs_bf):
    secretariat = member(SecretariatFactory(), Role.SECRETARIAT_ADMIN)
    officer = member(customs_bf, Role.CUSTOMS_OFFICER)
    api_key, _raw = api_key_create(organisation=customs_bf, name="SIDONIA BF", by=secretariat)
    assert api_key.created_by == secretariat
    with pytest.raises(NotAllowed):
        api_key_create(organisation=customs_bf, name="x", by=officer)
    with pytest.raises(NotAllowed):
        api_key_revoke(api_key=api_key, by=officer)
    api_key_revoke(api_key=api_key, by=secretariat)
    revoked_at = api_key.revoked_at
    assert revoked_at is not None
    api_key_revoke(api_key=api_key, by=secretariat)  # again: nothing changes
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == revoked_at


def test_command_prints_the_key_once(customs_bf):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "--country", "bf", "--name", "SIDONIA BF", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("cu_") and "\n" not in raw
    api_key = ApiKey.objects.get()
    assert api_key.organisation == customs_bf and api_key.name == "SIDONIA BF"
    assert api_key_authenticate(raw) == api_key
    assert raw not in err.getvalue()


def test_command_refuses_a_country_without_customs(db):
    with pytest.raises(CommandError):
        call_command("create_api_key", "--country", "NE", "--name", "SIDONIA NE", stdout=io.StringIO())
