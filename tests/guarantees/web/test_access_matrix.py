"""Who reaches which page: one role × page matrix over every URL of the guarantees app.

Signed out → the sign-in page (302); signed in without the permission → 403; with the permission but the
object belongs to another organisation → 404; otherwise 200 (a GET of an action shows its confirmation form).
Each row is asserted whole, so a failure shows every role's status at once.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.roles import Role
from guarantees.errors import SameMakerAndChecker
from guarantees.models import Amendment, Guarantee, GuaranteeStatus
from guarantees.services.access_codes import access_code_issue
from guarantees.services.amendments import amendment_prepare, amendment_request
from guarantees.services.guarantees import guarantee_prepare, guarantee_suspend
from guarantees.terms import guarantee_terms
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, confirmed_guarantee, requested_guarantee
from tests.builders import world as build_world
from tests.factories import member

ROLES = (
    "agent_a", "agent_b", "maker", "checker", "checker_other", "officer", "officer_other", "supervisor",
    "secretariat", "anonymous",
)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
PRINCIPAL_ONLY = {"ok": {"agent_a"}, "hidden": {"agent_b"}}
BANK_USERS = {"maker", "checker", "checker_other"}
CUSTOMS_USERS = {"officer", "officer_other", "supervisor"}


@pytest.fixture
def world(db):
    """Forwarder A's guarantees in every state at bank X (BF), and the people who may or may not see them."""
    w = build_world(amount=None, reference=False, customs=("ML",), totp=True,
                    people=("other_agent", "other_checker", "ml_officer", "secretariat"))
    s = w.s
    people = {
        "agent_a": s.agent,
        "agent_b": w.other_agent,
        "maker": s.maker,
        "checker": s.checker,
        "checker_other": w.other_checker,
        "officer": s.officer,
        "officer_other": w.ml_officer,
        "supervisor": s.supervisor,
        "secretariat": w.secretariat,
    }

    draft = requested_guarantee(s, submit=False)
    submitted = requested_guarantee(s)
    prepared = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    confirmed = confirmed_guarantee(s)
    active = active_guarantee(s)
    access_code_issue(guarantee=active, by=s.agent, label="Chauffeur")
    amendment_submitted = amendment_request(
        guarantee=active, by=s.agent, new_amount=60_000_000, new_valid_until=active.valid_until
    )
    active2 = active_guarantee(s)
    amendment_prepared = amendment_prepare(
        amendment=amendment_request(
            guarantee=active2, by=s.agent, new_amount=70_000_000, new_valid_until=active2.valid_until
        ),
        by=s.maker,
    )
    suspended = guarantee_suspend(guarantee=active_guarantee(s), by=s.supervisor, reason="Contrôle")
    assert draft.status == GuaranteeStatus.DRAFT and confirmed.status == GuaranteeStatus.BANK_CONFIRMED
    assert prepared.status == GuaranteeStatus.PREPARED
    return {
        "people": people,
        "draft": draft,
        "submitted": submitted,
        "prepared": prepared,
        "confirmed": confirmed,
        "active": active,
        "suspended": suspended,
        "code": active.access_codes.get(),
        "amendment_submitted": amendment_submitted,
        "amendment_prepared": amendment_prepared,
        "bank": s.bank,
    }


def expected(ok=frozenset(), hidden=frozenset()) -> dict[str, int]:
    row = {role: 403 for role in ROLES}
    row["anonymous"] = 302
    row.update({role: 200 for role in ok})
    row.update({role: 404 for role in hidden})
    return row


def _pk(key):
    return lambda w: [w[key].pk]


# url name, how to get its arguments from the world, expected status per role.
MATRIX = [
    ("list", lambda w: [], expected(ok=SIGNED_IN)),
    ("request", lambda w: [], expected(ok={"agent_a", "agent_b"})),
    ("detail", _pk("active"), expected(
        ok={"agent_a", "maker", "checker", "officer", "supervisor", "secretariat"},
        hidden={"agent_b", "checker_other", "officer_other"},
    )),
    ("detail", _pk("draft"), expected(ok={"agent_a"}, hidden=SIGNED_IN - {"agent_a"})),
    ("edit", _pk("draft"), expected(**PRINCIPAL_ONLY)),
    ("submit", _pk("draft"), expected(**PRINCIPAL_ONLY)),
    ("withdraw", _pk("submitted"), expected(**PRINCIPAL_ONLY)),
    ("amend", _pk("active"), expected(**PRINCIPAL_ONLY)),
    ("amendment_withdraw", _pk("amendment_submitted"), expected(**PRINCIPAL_ONLY)),
    ("access_codes", _pk("active"), expected(**PRINCIPAL_ONLY)),
    ("access_code_revoke", lambda w: [w["active"].pk, w["code"].pk], expected(**PRINCIPAL_ONLY)),
    ("bank_queue", lambda w: [], expected(ok=BANK_USERS)),
    ("portfolio", lambda w: [], expected(ok=BANK_USERS)),
    ("prepare", _pk("submitted"), expected(ok={"maker"})),
    ("confirm", _pk("prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("decline", _pk("prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("send_back", _pk("prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("prepare", _pk("prepared"), expected(ok={"maker"})),
    # A prepared request is the bank's and the principal's business; customs see nothing before confirmation.
    ("detail", _pk("prepared"), expected(
        ok={"agent_a", "maker", "checker", "secretariat"},
        hidden={"agent_b", "checker_other", "officer", "officer_other", "supervisor"},
    )),
    ("amendment_prepare", _pk("amendment_submitted"), expected(ok={"maker"})),
    ("amendment_confirm", _pk("amendment_prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("amendment_decline", _pk("amendment_prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("amendment_send_back", _pk("amendment_prepared"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("customs_queue", lambda w: [], expected(ok=CUSTOMS_USERS)),
    ("lookup", lambda w: [], expected(ok=CUSTOMS_USERS)),
    ("accept", _pk("confirmed"), expected(ok={"officer", "supervisor"}, hidden={"officer_other"})),
    ("suspend", _pk("active"), expected(ok={"supervisor"})),
    ("reactivate", _pk("suspended"), expected(ok={"supervisor"})),
    ("cancel", _pk("active"), expected(ok={"supervisor"})),
    ("banks", lambda w: [], expected(ok={"secretariat"})),
    ("bank_detail", _pk("bank"), expected(ok={"secretariat"})),
]


def _status(client: Client, url: str, method: str = "get") -> int:
    response = getattr(client, method)(url)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_login")), response["Location"]
    return response.status_code


@pytest.mark.parametrize(
    ("url_name", "args", "row"), MATRIX, ids=[f"{name}-{i}" for i, (name, _a, _r) in enumerate(MATRIX)]
)
def test_role_page_matrix(world, url_name, args, row):
    url = reverse(f"guarantees:{url_name}", args=args(world))
    actual = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            sign_in_as(client, world["people"][role])
        actual[role] = _status(client, url)
    assert actual == row


ACTIONS = [entry for entry in MATRIX if entry[0] not in {"list", "detail", "bank_queue", "portfolio",
                                                         "customs_queue", "lookup", "access_codes", "banks",
                                                         "bank_detail"}]


@pytest.mark.parametrize(
    ("url_name", "args", "row"), ACTIONS, ids=[f"{name}-{i}" for i, (name, _a, _r) in enumerate(ACTIONS)]
)
def test_refused_post_changes_nothing(world, url_name, args, row):
    """A POST by someone without the permission (403), of another organisation (404) or signed out (302)
    is refused before any service runs."""
    url = reverse(f"guarantees:{url_name}", args=args(world))
    before = _snapshot()
    for role, status in row.items():
        if status == 200:
            continue
        client = Client()
        if role != "anonymous":
            sign_in_as(client, world["people"][role])
        assert _status(client, url, "post") == status, role
    assert _snapshot() == before


def _snapshot():
    return (
        sorted(Guarantee.objects.values_list("pk", "status", "prepared_by_id", "amount", "version", "preparation")),
        sorted(Amendment.objects.values_list("pk", "status", "preparation")),
        sorted(Guarantee.objects.values_list("pk", "access_codes__revoked_at")),
    )


def test_staff_without_mfa_is_sent_to_enrolment(world):
    """Bank users cannot reach any page before they have a TOTP device."""
    maker = member(world["bank"].organisation, Role.BANK_MAKER)
    client = Client()
    sign_in_as(client, maker)
    response = client.get(reverse("guarantees:bank_queue"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_maker_cannot_confirm_what_they_prepared(world):
    """Four eyes through the views: the maker who prepared holds the checker role too, and is refused."""
    prepared = world["prepared"]
    maker = world["people"]["maker"]
    from accounts.models import Membership

    Membership.objects.create(user=maker, organisation=prepared.bank.organisation, role=Role.BANK_CHECKER)
    client = Client()
    sign_in_as(client, maker)
    response = client.post(reverse("guarantees:confirm", args=[prepared.pk]),
                           {"terms": guarantee_terms(prepared).encode()})
    assert response.status_code == 200
    with translation.override("fr"):
        message = escape(str(SameMakerAndChecker.default_message))
    assert message in response.content.decode()
    prepared.refresh_from_db()
    assert prepared.status == GuaranteeStatus.PREPARED
    assert prepared.confirmed_by is None
