"""The signed status list: what a border post learns about a version it holds the payload of, as of the list's
time — superseded after an amendment, suspended once the list is refreshed after the suspension (queued on the
suspension's commit), called once a claim is made — and that a list not signed by a listed key is refused."""

import base64
import datetime
import json
import random

import cbor2
import pytest
from django.conf import settings as django_settings

from guarantees.documents import offline
from guarantees.documents.offline_keys import offline_public_keys, offline_signing_key
from guarantees.models import StatusList
from guarantees.services.guarantees import guarantee_reactivate, guarantee_suspend
from guarantees.services.status_list import status_list_current, status_list_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline_key(settings, tmp_path):
    settings.OFFLINE_DEV_KEY_PATH = settings.OFFLINE_SIGNING_KEY_PATH = str(tmp_path / "offline.pem")
    settings.OFFLINE_RETIRED_KEYS_PATH = None


@pytest.fixture
def covered(db):
    from tests.factories import country

    return [country(code) for code in ("BF", "ML", "NE", "TG")]


def read(row: StatusList) -> offline.StatusListRead:
    return offline.status_list_verify(bytes(row.signed), keys=offline_public_keys())


def test_a_superseded_version_shows_superseded(covered):
    from tests.builders import active_guarantee, scene
    from tests.guarantees.documents.conftest import amend

    s = scene("BF")
    g = active_guarantee(s, amount=40_000_000)
    v1 = g.versions.get(number=1)
    assert read(status_list_refresh()).entry(v1.pk) == ("valid", False)

    g = amend(s, g, amount=45_000_000, days=30)
    v2 = g.versions.get(number=2)
    listed = read(status_list_refresh())
    assert listed.entry(v1.pk) == ("superseded", False)
    assert listed.entry(v2.pk) == ("valid", False)


def test_a_suspended_guarantee_shows_suspended_in_the_list_refreshed_after_it(
        covered, django_capture_on_commit_callbacks):
    from tests.builders import active_guarantee, scene

    s = scene("BF")
    g = active_guarantee(s)
    index = g.versions.get().pk
    before = status_list_refresh(now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        guarantee_suspend(guarantee=g, by=s.supervisor, reason="Enquête en cours")
    assert any("refresh_status_list" in repr(getattr(c, "args", c)) for c in callbacks)
    after = status_list_current()
    assert after.pk != before.pk and after.issued_at > before.issued_at
    assert read(before).entry(index) == ("valid", False)  # what a post that has not refreshed still holds
    assert read(after).entry(index) == ("suspended", False)

    with django_capture_on_commit_callbacks(execute=True):
        guarantee_reactivate(guarantee=g, by=s.supervisor, reason="Levée")
    assert read(status_list_current()).entry(index) == ("valid", False)


def test_expired_and_unknown_entries(covered):
    from tests.builders import active_guarantee, scene

    s = scene("BF")
    g = active_guarantee(s)
    index = g.versions.get().pk
    later = datetime.datetime.combine(g.valid_until + datetime.timedelta(days=1), datetime.time(12),
                                      tzinfo=datetime.UTC)
    listed = read(status_list_refresh(now=later))
    assert listed.entry(index) == ("expired", False)
    assert listed.entry(index + 1000) == ("valid", False)  # beyond the list: nothing known against it


def test_a_list_signed_by_a_key_not_listed_is_refused():
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    claims = offline.status_list_claims(entries={}, length=10, issued_at=datetime.datetime.now(datetime.UTC),
                                        ttl=datetime.timedelta(hours=48))
    for kid in (offline.key_id(stranger.public_key()), offline_signing_key().kid):
        with pytest.raises(offline.OfflineError):
            offline.status_list_verify(offline.status_list_sign(claims, private_key=stranger, kid=kid),
                                       keys=offline_public_keys())


def test_the_endpoints_publish_the_newest_list(client):
    status_list_refresh()
    newest = status_list_refresh()
    body = client.get("/api/v1/offline/status-list").json()
    assert base64.b64decode(body["cose"]) == bytes(newest.signed) and body["bits"] == 4
    raw = client.get("/api/v1/offline/status-list.cbor")
    assert raw["Content-Type"] == "application/cbor" and raw.content == bytes(newest.signed)
    assert "max-age" in raw["Cache-Control"]


def test_size_for_ten_thousand_guarantees(tmp_path):
    """The list for 10 000 guarantees with a registry's mix: most valid, some amended once or twice (their
    older versions superseded), suspended, expired, closed, called. Written to test-output for the note."""
    rng = random.Random(15)
    entries, index = {}, 0
    for _ in range(10_000):
        versions = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        for v in range(versions):
            if v < versions - 1:
                entries[index] = offline.STATUS_CODES["superseded"]
            else:
                state = rng.choices(("valid", "suspended", "expired", "closed", "cancelled"),
                                    weights=(70, 3, 12, 13, 2))[0]
                value = offline.STATUS_CODES[state] | (offline.CALLED if rng.random() < 0.02 else 0)
                if value:
                    entries[index] = value
            index += 1
    key = offline_signing_key()
    claims = offline.status_list_claims(entries=entries, length=index,
                                        issued_at=datetime.datetime.now(datetime.UTC),
                                        ttl=datetime.timedelta(hours=48))
    signed = offline.status_list_sign(claims, private_key=key.private_key, kid=key.kid)
    listed = offline.status_list_verify(signed, keys=offline_public_keys())
    assert all(listed.entry(i)[0] == offline.STATUS_NAMES[v & 7] for i, v in list(entries.items())[:500])
    figures = {"guarantees": 10_000, "versions": index, "flagged": len(entries), "signed_bytes": len(signed),
               "raw_bitstring_bytes": (index + 1) // 2, "json_wrapper_bytes": len(json.dumps({
                   "cose": base64.b64encode(signed).decode()})) + 250}
    out = django_settings.BASE_DIR / "test-output" / "status-list"
    out.mkdir(parents=True, exist_ok=True)
    (out / "size-10000.json").write_text(json.dumps(figures))
    assert len(signed) < 16_000, figures
    assert cbor2.loads(cbor2.loads(signed).value[2])[offline.CLAIM_STATUS]["n"] == index


from tests.guarantees.claims.conftest import world  # noqa: F401 - the claims' scene (a transit past its notice)


def test_a_called_guarantee_is_flagged_in_the_list_refreshed_on_the_claim(world, django_capture_on_commit_callbacks):  # noqa: F811
    from guarantees.services.claims import claim_issue

    index = world.g.versions.get().pk
    transit, _enquiry = world.noticed()
    assert read(status_list_refresh()).entry(index) == ("valid", False)
    with django_capture_on_commit_callbacks(execute=True):
        claim_issue(transit=transit, by=world.tg_supervisor, grounds="Non apuré.", amount=4_000_000)
    assert read(status_list_current()).entry(index) == ("valid", True)
