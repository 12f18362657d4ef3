"""An access code used again: its last use is read back as an aware moment on every database (the embedded
SQLite default returned it naive from the hand-written SELECT, and the second use of a code was a 500)."""

import datetime

import pytest
from django.utils import timezone

from guarantees.models import AccessCode
from guarantees.services.access_codes import access_code_check, access_code_issue
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db


def test_a_code_works_again_after_its_first_use():
    s = scene("BF")
    guarantee = active_guarantee(s)
    code = access_code_issue(guarantee=guarantee, by=s.agent, label="SIDONIA")
    assert access_code_check(grn=guarantee.grn, code=code, caller="user:1") == guarantee
    assert access_code_check(grn=guarantee.grn, code=code, caller="user:1") == guarantee


def test_a_code_last_used_long_ago_records_its_new_use():
    s = scene("BF")
    guarantee = active_guarantee(s)
    code = access_code_issue(guarantee=guarantee, by=s.agent)
    long_ago = timezone.now() - datetime.timedelta(hours=3)
    AccessCode.objects.filter(guarantee=guarantee).update(last_used_at=long_ago)
    assert access_code_check(grn=guarantee.grn, code=code, caller="apikey:7") == guarantee
    assert AccessCode.objects.get(guarantee=guarantee).last_used_at > long_ago
