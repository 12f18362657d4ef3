"""Transit pages, bulk discharge files and API keys through the views.

Who sees a transit: the forwarder whose guarantee it draws on, the bank that issued that guarantee, the customs of
every country on its route and the secretariat; anyone else gets a 404. Discharge files belong to the
administration that sent them; API keys are the secretariat's.
"""

import datetime

import pytest

from tests.builders import declare_as_of
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.html import escape

from accounts.api_keys import api_key_authenticate, api_key_create
from accounts.models import ApiKey
from guarantees.models import AmountSource, DischargeFile, EventStatus, HoldStatus, JobStatus, Transit, TransitStatus
from guarantees.services.transits import (
    discharge_file_process,
    transit_declare,
)
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.accounts.helpers import sign_in_as
from tests.builders import world as build_world

NOW = timezone.now().replace(microsecond=0)
RICE = [{"hs_code": "100630", "description": "Riz blanchi", "customs_value": 25_000_000, "gross_mass_kg": 30000}]


def fr(text) -> str:
    """A translatable label as a French page shows it (HTML-escaped)."""
    with translation.override("fr"):
        return escape(str(text))


def client_for(user) -> Client:
    """Signed in; bank, customs and secretariat people get a TOTP device first so MFA lets them through."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if user.mfa_required and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


def declaration(ref, **over):
    data = {
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "corridor": "LOM-OUA", "declared_at": NOW, "amount": 4_500_000, "goods": [],
        "transport": {"vehicle": "BF-1234-AB", "seals": ["S-1", "S-2"]},
    }
    data.update(over)
    return data


@pytest.fixture
def world(db):
    """Forwarder A (bank X) and forwarder B (bank Y), both in BF; transits declared at Lomé by Togo's customs.

    - ``computed``: A's, Lomé → Ouagadougou, amount computed from rice (breakdown for TG and BF);
    - ``late``: A's, Lomé → Ouagadougou, declared 20 days ago on a 5-day corridor: past its time limit, open;
    - ``niamey``: B's, Lomé → Niamey through Burkina Faso, amount sent by the customs system.
    """
    w = build_world(amount=500_000_000, second=True, customs=("TG", "NE", "ML"),
                    people=("tg_officer", "ne_officer", "ml_officer", "secretariat"))
    a, b, togo = w.s, w.other, w.togo
    g_a, g_b = w.guarantee, w.other_guarantee
    computed, _ = declare_as_of(
        sender=togo, guarantee=g_a, data=declaration("TG-2026-T-000101", amount=None, goods=RICE)
    )
    late, _ = declare_as_of(
        sender=togo, guarantee=g_a,
        data=declaration("TG-2026-T-000102", declared_at=NOW - datetime.timedelta(days=20)),
    )
    niamey, _ = declare_as_of(
        sender=togo, guarantee=g_b, data=declaration("TG-2026-T-000103", office_of_destination="NENIAM",
                                                      corridor="LOM-NIA", amount=7_000_000,
                                                      declared_at=NOW - datetime.timedelta(days=3)),
    )
    people = {
        "agent_a": a.agent,
        "agent_b": b.agent,
        "checker_a": a.checker,
        "checker_b": b.checker,
        "officer_bf": a.officer,
        "officer_tg": w.tg_officer,
        "officer_ne": w.ne_officer,
        "officer_ml": w.ml_officer,
        "secretariat": w.secretariat,
    }
    return {
        "people": people, "togo": togo, "bf": a.customs, "g_a": g_a, "g_b": g_b,
        "computed": computed, "late": late, "niamey": niamey,
    }


def listed(response) -> list[str]:
    return sorted(t.declaration_ref for t in response.context["page"].object_list)


def refs(w, *keys) -> list[str]:
    return sorted(w[k].declaration_ref for k in keys)


# --- Visibility -------------------------------------------------------------------------------------

VISIBLE = {
    "agent_a": ("computed", "late"),
    "agent_b": ("niamey",),
    "checker_a": ("computed", "late"),
    "checker_b": ("niamey",),
    "officer_bf": ("computed", "late", "niamey"),  # every route crosses Burkina Faso
    "officer_tg": ("computed", "late", "niamey"),  # declared at Lomé
    "officer_ne": ("niamey",),  # only the Niamey route enters Niger
    "officer_ml": (),  # no route through Mali
    "secretariat": ("computed", "late", "niamey"),
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_lists_exactly_the_transits_it_may_see(world, who):
    response = client_for(world["people"][who]).get(reverse("guarantees:transits"))
    assert response.status_code == 200
    assert listed(response) == refs(world, *VISIBLE[who])


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_detail_is_200_when_visible_and_404_otherwise(world, who):
    client = client_for(world["people"][who])
    actual = {
        key: client.get(reverse("guarantees:transit_detail", args=[world[key].declaration_ref])).status_code
        for key in ("computed", "late", "niamey")
    }
    assert actual == {key: 200 if key in VISIBLE[who] else 404 for key in ("computed", "late", "niamey")}


def test_unknown_declaration_is_404(world):
    client = client_for(world["people"]["secretariat"])
    assert client.get(reverse("guarantees:transit_detail", args=["NOPE-1"])).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(world):
    for url in (reverse("guarantees:transits"),
                reverse("guarantees:transit_detail", args=[world["computed"].declaration_ref])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- Filters ----------------------------------------------------------------------------------------

def test_filter_by_status(world):
    bf = world["bf"]
    event, _ = transit_event_receive(sender=bf, data={
        "message_id": "ARR-1", "declaration_ref": world["computed"].declaration_ref, "type": "arrival",
        "office": "BFOUAG", "occurred_at": timezone.now().isoformat(),
    })
    transit_event_apply(event_id=event.pk)
    client = client_for(world["people"]["secretariat"])
    url = reverse("guarantees:transits")
    assert listed(client.get(url, {"status": "arrived"})) == refs(world, "computed")
    assert listed(client.get(url, {"status": "declared"})) == refs(world, "late", "niamey")


def test_overdue_filter_keeps_open_transits_past_their_time_limit_and_the_list_flags_them(world):
    client = client_for(world["people"]["secretariat"])
    url = reverse("guarantees:transits")
    response = client.get(url, {"overdue": "on"})
    assert listed(response) == refs(world, "late")
    assert 'data-testid="overdue-badge"' in response.content.decode()
    everything = client.get(url).content.decode()
    assert everything.count('data-testid="overdue-badge"') == 1


def test_discharged_transit_past_its_time_limit_is_not_overdue(world):
    late = world["late"]
    event, _ = transit_event_receive(sender=world["bf"], data={
        "message_id": "DIS-LATE", "declaration_ref": late.declaration_ref, "type": "discharge", "office": "BFOUAG",
        "occurred_at": NOW.isoformat(),
    })
    transit_event_apply(event_id=event.pk)
    late.refresh_from_db()
    assert late.status == TransitStatus.DISCHARGED
    client = client_for(world["people"]["secretariat"])
    assert listed(client.get(reverse("guarantees:transits"), {"overdue": "on"})) == []


def test_filter_by_office_corridor_grn_and_declaration_date(world):
    client = client_for(world["people"]["secretariat"])
    url = reverse("guarantees:transits")
    assert listed(client.get(url, {"office": "NENIAM"})) == refs(world, "niamey")
    assert listed(client.get(url, {"office": "BFCINK"})) == refs(world, "computed", "late", "niamey")
    assert listed(client.get(url, {"office": "BFOUAG"})) == refs(world, "computed", "late")
    assert listed(client.get(url, {"corridor": "LOM-NIA"})) == refs(world, "niamey")
    assert listed(client.get(url, {"q": world["g_b"].grn})) == refs(world, "niamey")
    assert listed(client.get(url, {"q": "T-000101"})) == refs(world, "computed")
    before = (NOW - datetime.timedelta(days=10)).date().isoformat()
    assert listed(client.get(url, {"declared_before": before})) == refs(world, "late")
    assert listed(client.get(url, {"declared_after": before})) == refs(world, "computed", "niamey")


def test_filters_do_not_widen_what_a_customs_officer_sees(world):
    client = client_for(world["people"]["officer_ne"])
    assert listed(client.get(reverse("guarantees:transits"), {"office": "BFOUAG"})) == []


def test_list_is_paginated_by_25_keeping_the_filters(world):
    g = world["g_a"]
    for i in range(26):
        declare_as_of(sender=world["togo"], guarantee=g, data=declaration(f"TG-2026-P-{i:04d}", amount=100_000))
    client = client_for(world["people"]["agent_a"])
    first = client.get(reverse("guarantees:transits"), {"corridor": "LOM-OUA"})
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.count == 28
    assert "corridor=LOM-OUA&amp;page=2" in first.content.decode()
    second = client.get(reverse("guarantees:transits"), {"corridor": "LOM-OUA", "page": 2})
    assert len(second.context["page"].object_list) == 3


def test_pages_of_a_list_are_its_rows_newest_first_without_gap_or_repeat(world):
    """Each page is read as its ids first, then those rows (a deferred join): pages put end to end are the list."""
    g = world["g_a"]
    for i in range(30):
        declare_as_of(sender=world["togo"], guarantee=g, data=declaration(
            f"TG-2026-P-{i:04d}", amount=100_000, declared_at=NOW - datetime.timedelta(days=3, hours=i)))
    client = client_for(world["people"]["agent_a"])
    url = reverse("guarantees:transits")
    pages = [[t.declaration_ref for t in client.get(url, {"page": n}).context["page"].object_list] for n in (1, 2)]
    expected = list(Transit.objects.filter(guarantee=g).order_by("-declared_at", "-pk")
                    .values_list("declaration_ref", flat=True))
    assert pages[0] + pages[1] == expected and len(pages[0]) == 25


@pytest.mark.parametrize("sorted_up_to", [40_000, 0])
def test_a_search_by_grn_lists_the_guarantees_transits_newest_first_whether_sorted_or_walked(
        world, settings, monkeypatch, sorted_up_to):
    """A search that matches a few guarantees sorts their transits rather than walking the newest-first index
    (``transits_newest_first(few=True)``); either way the same rows in the same order."""
    from guarantees.selectors import transits as selectors

    monkeypatch.setattr(selectors, "SEARCH_SORTED_ENTRIES", sorted_up_to)
    g = world["g_a"]
    for i in range(3):
        declare_as_of(sender=world["togo"], guarantee=g, data=declaration(
            f"TG-2026-S-{i:04d}", amount=100_000, declared_at=NOW - datetime.timedelta(days=4, hours=5 * i)))
    client = client_for(world["people"]["secretariat"])
    response = client.get(reverse("guarantees:transits"), {"q": g.grn[4:11]})
    shown = [t.declaration_ref for t in response.context["page"].object_list]
    assert shown == list(Transit.objects.filter(guarantee=g).order_by("-declared_at", "-pk")
                         .values_list("declaration_ref", flat=True))
    assert response.context["filter"].few_matches is (sorted_up_to > 0)


# --- Detail -----------------------------------------------------------------------------------------

def test_detail_shows_the_breakdown_per_country_and_highlights_the_one_kept(world):
    transit = world["computed"]
    response = client_for(world["people"]["officer_bf"]).get(
        reverse("guarantees:transit_detail", args=[transit.declaration_ref])
    )
    assert response.status_code == 200
    breakdown = response.context["breakdown"]
    kept = transit.amount_breakdown["country"]
    assert [c["code"] for c in breakdown["countries"]] == ["TG", "BF"]  # in the order of the route
    assert [c["code"] for c in breakdown["countries"] if c["kept"]] == [kept]
    assert breakdown["amount"] == transit.amount_held
    html = response.content.decode()
    kept_block = html.split(f'data-testid="breakdown-{kept}"', 1)[1].split('data-testid="breakdown-', 1)[0]
    assert 'data-testid="kept-country"' in kept_block
    assert html.count('data-testid="kept-country"') == 1
    assert "100630" in html and "Riz blanchi" in html
    assert fr(AmountSource.COMPUTED.label) in html


def test_detail_shows_route_hold_and_event_timeline_in_the_office_zone(world):
    transit = world["niamey"]
    bf, niger = world["bf"], world["people"]["officer_ne"].organisation
    # Two days after its declaration, at 22:30 UTC (events dated before the declaration are refused).
    occurred = (NOW - datetime.timedelta(days=2)).replace(hour=22, minute=30, second=0)
    ok, _ = transit_event_receive(sender=niger, data={
        "message_id": "NE-1", "declaration_ref": transit.declaration_ref, "type": "border_entry", "office": "NEMAKA",
        "occurred_at": occurred.isoformat(),
    })
    transit_event_apply(event_id=ok.pk)
    partial, _ = transit_event_receive(sender=niger, data={
        "message_id": "NE-2", "declaration_ref": transit.declaration_ref, "type": "partial_discharge",
        "office": "NENIAM", "occurred_at": (occurred + datetime.timedelta(days=1)).isoformat(),
        "amount_released": 2_000_000,
    })
    transit_event_apply(event_id=partial.pk)
    assert bf  # Burkina Faso is on the route too
    response = client_for(world["people"]["officer_ne"]).get(
        reverse("guarantees:transit_detail", args=[transit.declaration_ref])
    )
    html = response.content.decode()
    stops = [s.office.code for s in response.context["stops"]]
    assert stops == ["TGLOME", "TGCINK", "BFCINK", "BFFADA", "BFKANT", "NEMAKA", "NENIAM"]
    assert response.context["hold"].status == HoldStatus.HELD
    assert response.context["hold"].amount == 5_000_000
    assert "7\u202f000\u202f000\u00a0FCFA" in html  # taken
    assert "5\u202f000\u202f000\u00a0FCFA" in html  # held now
    # 22:30 UTC is 23:30 in Niamey (UTC+1): the Niger officer reads Niamey's time, named once on the page.
    assert "23:30" in html and "22:30" not in html and "heure de Niamey (UTC+1)" in html
    assert [e.message_id for e in response.context["events"]] == ["NE-1", "NE-2"]
    assert fr(AmountSource.DECLARED.label) in html  # the source of the amount, in French


def test_detail_shows_a_rejected_event_with_its_reason(world):
    transit = world["computed"]
    # A discharge of a transit whose guarantee was already invoked is refused when applied, and kept with its reason.
    Transit.objects.filter(pk=transit.pk).update(status=TransitStatus.CLAIMED)
    event, _ = transit_event_receive(sender=world["bf"], data={
        "message_id": "LATE-DIS", "declaration_ref": transit.declaration_ref, "type": "discharge",
        "office": "BFOUAG", "occurred_at": NOW.isoformat(),
    })
    event = transit_event_apply(event_id=event.pk)
    assert event.status == EventStatus.REJECTED
    response = client_for(world["people"]["secretariat"]).get(
        reverse("guarantees:transit_detail", args=[transit.declaration_ref])
    )
    timeline = response.content.decode().split('data-testid="events"', 1)[1]
    assert escape(event.error_detail) in timeline
    assert fr(EventStatus.REJECTED.label) in timeline and "LATE-DIS" in timeline


# --- Bulk discharge files ---------------------------------------------------------------------------

def _csv(*lines: str) -> SimpleUploadedFile:
    text = "message_id,declaration_ref,type,office,occurred_at,amount_released\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile("apurements.csv", text.encode(), content_type="text/csv")


def test_upload_processes_the_file_and_the_job_page_lists_the_bad_line(world, django_capture_on_commit_callbacks):
    officer = world["people"]["officer_bf"]
    ref = world["computed"].declaration_ref
    when = NOW.isoformat()
    client = client_for(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("guarantees:discharge_upload"), {"file": _csv(
            f"BF-1,{ref},discharge,BFOUAG,{when},",
            f"BF-2,{ref},discharge,XXNOPE,{when},",
            f"BF-1,{ref},discharge,BFOUAG,{when},",
        )})
    job = DischargeFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("guarantees:discharge_job", args=[job.pk])
    assert job.sender == world["bf"] and job.uploaded_by == officer
    assert (job.status, job.total, job.done, job.duplicates, job.failed) == (JobStatus.DONE, 3, 1, 1, 1)
    world["computed"].refresh_from_db()
    assert world["computed"].status == TransitStatus.DISCHARGED  # applied after commit

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert [e["line"] for e in page.context["errors"]] == [2]
    errors_table = html.split('data-testid="job-errors"', 1)[1]
    assert "office" in errors_table and "invalid" in errors_table
    assert 'http-equiv="refresh"' not in html  # done: no more refreshing

    listing = client.get(reverse("guarantees:discharge_jobs"))
    assert "apurements.csv" in listing.content.decode()


def test_job_page_refreshes_itself_while_queued(world, django_capture_on_commit_callbacks):
    client = client_for(world["people"]["officer_bf"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("guarantees:discharge_upload"), {"file": _csv()})
    page = client.get(response["Location"])
    assert '<meta http-equiv="refresh" content="3">' in page.content.decode()
    discharge_file_process(job_id=DischargeFile.objects.get().pk)
    assert 'http-equiv="refresh"' not in client.get(response["Location"]).content.decode()


def test_json_file_is_accepted(world, django_capture_on_commit_callbacks):
    ref = world["niamey"].declaration_ref
    body = f'[{{"message_id": "J-1", "declaration_ref": "{ref}", "type": "border_entry", "office": "BFCINK", ' \
           f'"occurred_at": "{NOW.isoformat()}"}}]'
    client = client_for(world["people"]["officer_bf"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("guarantees:discharge_upload"),
                    {"file": SimpleUploadedFile("export.json", body.encode(), content_type="application/json")})
    job = DischargeFile.objects.get()
    assert (job.format, job.total, job.done, job.failed) == ("json", 1, 1, 0)


def test_upload_page_shows_the_expected_columns_and_refuses_other_files(world):
    client = client_for(world["people"]["officer_bf"])
    html = client.get(reverse("guarantees:discharge_upload")).content.decode()
    assert "message_id,declaration_ref,type,office,occurred_at,amount_released" in html
    response = client.post(reverse("guarantees:discharge_upload"),
                           {"file": SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")})
    assert response.status_code == 200
    assert not DischargeFile.objects.exists()
    assert "errorlist" in response.content.decode()


def test_another_administrations_job_is_404_and_others_cannot_upload(world):
    job = DischargeFile.objects.create(sender=world["bf"], filename="bf.csv", format="csv", content=b"")
    togo_officer = client_for(world["people"]["officer_tg"])
    assert togo_officer.get(reverse("guarantees:discharge_job", args=[job.pk])).status_code == 404
    assert reverse("guarantees:discharge_job", args=[job.pk]) not in togo_officer.get(
        reverse("guarantees:discharge_jobs")).content.decode()
    assert client_for(world["people"]["officer_bf"]).get(
        reverse("guarantees:discharge_job", args=[job.pk])).status_code == 200
    for who in ("agent_a", "checker_a", "secretariat"):
        client = client_for(world["people"][who])
        assert client.get(reverse("guarantees:discharge_upload")).status_code == 403, who
        assert client.get(reverse("guarantees:discharge_jobs")).status_code == 403, who
        assert client.get(reverse("guarantees:discharge_job", args=[job.pk])).status_code == 403, who


# --- API keys ---------------------------------------------------------------------------------------

def test_secretariat_issues_a_key_shown_once(world):
    client = client_for(world["people"]["secretariat"])
    url = reverse("guarantees:api_keys")
    response = client.post(url, {"organisation": world["togo"].pk, "name": "SYDONIA World – Lomé-Port"})
    assert response.status_code == 302 and response["Location"] == url
    key = ApiKey.objects.get()
    assert key.organisation == world["togo"] and key.created_by == world["people"]["secretariat"]

    shown = client.get(url)
    plaintext = shown.context["new_key"]["key"]
    assert plaintext.startswith(f"cu_{key.prefix}_")
    assert plaintext in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert api_key_authenticate(plaintext) == key

    again = client.get(url)
    assert again.context["new_key"] is None
    assert plaintext not in again.content.decode()
    assert f"cu_{key.prefix}_" in again.content.decode()  # the prefix stays, to recognise the key


def test_issue_refuses_a_missing_name(world):
    client = client_for(world["people"]["secretariat"])
    response = client.post(reverse("guarantees:api_keys"), {"organisation": world["togo"].pk, "name": ""})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_secretariat_revokes_a_key_after_confirmation(world):
    key, plaintext = api_key_create(organisation=world["togo"], name="Passerelle")
    client = client_for(world["people"]["secretariat"])
    url = reverse("guarantees:api_key_revoke", args=[key.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Passerelle" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(plaintext) is None
    listing = client.get(reverse("guarantees:api_keys")).content.decode()
    assert url not in listing  # no revoke link for a revoked key


@pytest.mark.parametrize("who", ["agent_a", "checker_a", "officer_bf", "officer_tg"])
def test_api_key_pages_are_403_for_anyone_but_the_secretariat(world, who):
    key, _ = api_key_create(organisation=world["togo"], name="Passerelle")
    client = client_for(world["people"][who])
    assert client.get(reverse("guarantees:api_keys")).status_code == 403
    issue = client.post(reverse("guarantees:api_keys"), {"organisation": world["togo"].pk, "name": "x"})
    assert issue.status_code == 403
    assert client.post(reverse("guarantees:api_key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_navigation_links_to_the_new_pages_by_permission(world):
    officer = client_for(world["people"]["officer_bf"]).get(reverse("home")).content.decode()
    assert reverse("guarantees:transits") in officer and reverse("guarantees:discharge_jobs") in officer
    assert reverse("guarantees:api_keys") not in officer
    secretariat = client_for(world["people"]["secretariat"]).get(reverse("home")).content.decode()
    assert reverse("guarantees:api_keys") in secretariat
    assert reverse("guarantees:discharge_jobs") not in secretariat
