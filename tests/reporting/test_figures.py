"""Each report's figures against the ones computed by hand from the small world (tests/reporting/conftest.py)."""

import datetime

import pytest

from guarantees.models import ClaimStatus, EnquiryStatus
from reporting.selectors import banks, customs, forwarders, secretariat
from reporting.selectors.common import last_months

pytestmark = pytest.mark.django_db


def test_bank_exposure_per_forwarder_is_the_banks_own(world):
    rows = banks.bank_exposure_by_forwarder(user=world.s.checker)
    assert [(r["name"], r["guarantees"], r["amount"], r["held"], r["claimed"], r["paid"], r["available"])
            for r in rows] == [(world.s.forwarder.name, 1, 100_000_000, 8_000_000, 0, 3_000_000, 89_000_000)]
    totals = banks.bank_exposure_totals(user=world.s.checker)
    assert (totals["amount"], totals["available"]) == (100_000_000, 89_000_000)
    # The other bank sees only its own guarantee.
    other = banks.bank_exposure_by_forwarder(user=world.s2.checker)
    assert [(r["name"], r["amount"], r["held"]) for r in other] == [(world.s2.forwarder.name, 50_000_000, 1_000_000)]


def test_bank_exposure_per_corridor_and_country(world):
    by_corridor = {r["key"]: r for r in banks.bank_exposure_by_corridor(user=world.s.checker)}
    # LOM-OUA: T1 (paid 3 000 000) and T2 (held 6 000 000); T4 is released. LOM-NIA: T3 (held 2 000 000).
    assert (by_corridor["LOM-OUA"]["transits"], by_corridor["LOM-OUA"]["held"], by_corridor["LOM-OUA"]["paid"]) == (
        2, 6_000_000, 3_000_000)
    assert (by_corridor["LOM-NIA"]["transits"], by_corridor["LOM-NIA"]["held"]) == (1, 2_000_000)
    by_country = {r["key"]: r["held"] for r in banks.bank_exposure_by_country(user=world.s.checker)}
    assert by_country == {"BF": 6_000_000, "NE": 2_000_000}


def test_bank_ceiling_over_time_this_month(world):
    period = last_months(2)
    series = banks.bank_ceiling_over_time(user=world.s.checker, bank=world.s.bank, period=period)
    last = series[-1]
    # Everything was written this month: committed = the reference amount; drawn = held 8 000 000 + paid 3 000 000.
    assert (last["committed"], last["drawn"], last["ceiling"]) == (100_000_000, 11_000_000, 10_000_000_000)
    assert last["pct"] == 1
    assert (series[0]["committed"], series[0]["drawn"]) == (0, 0)


def test_bank_expiring_bands(world):
    today = world.now.date()
    bands, rows = banks.bank_expiring(user=world.s.checker, today=today)
    assert [b["guarantees"] for b in bands] == [0, 0, 0]  # G1 runs a year
    bands, rows = banks.bank_expiring(user=world.s.checker, today=world.g1.valid_until - datetime.timedelta(days=45))
    assert [b["guarantees"] for b in bands] == [0, 1, 0]
    assert bands[1]["amount"] == 100_000_000 and bands[1]["outstanding"] == 8_000_000
    assert [g.pk for g in rows] == [world.g1.pk]


def test_bank_claims_received_paid_and_answered_on_time(world):
    figures = banks.bank_claims(user=world.s.checker, period=last_months(1), examination_days=5)
    assert [(r["status"], r["claims"], r["amount"], r["paid"]) for r in figures["by_status"]] == [
        (ClaimStatus.PAID, 1, 4_000_000, 3_000_000)]
    assert (figures["received"], figures["answered"], figures["on_time"], figures["late"], figures["awaiting"]) == (
        1, 1, 1, 0, 0)
    assert figures["median_days"] < 0.01
    assert banks.bank_claims(user=world.s2.checker, period=last_months(1), examination_days=5)["received"] == 0


def test_customs_secured_now_and_per_month(world):
    now = customs.customs_secured_now(user=world.tg_officer)
    # Open holds touching Togo: T2 6 000 000, T3 2 000 000, T5 1 000 000.
    assert (now["transits"], now["held"], now["claimed"]) == (3, 9_000_000, 0)
    niger = customs.customs_secured_now(user=world.ne_officer)
    assert (niger["transits"], niger["held"]) == (1, 2_000_000)  # only T3 goes through Niger
    months = customs.customs_secured_by_month(user=world.tg_officer, period=last_months(6, today=world.now.date()))
    total = sum(m["secured"] for m in months)
    # All five transits are declared within the last 6 months (T1 90 days ago).
    assert total == 4_500_000 + 10_000_000 + 2_000_000 + 3_000_000 + 1_000_000
    assert sum(m["still_held"] for m in months) == 9_000_000


def test_customs_open_transits_by_age_and_corridor(world):
    ages = customs.customs_open_by_age(user=world.tg_officer, now=world.now)
    # Open: T2 (4 days), T3 (2 days), T5 (4 days): all in 0–7; none past its time limit.
    assert [a["transits"] for a in ages] == [3, 0, 0, 0, 0]
    assert ages[0]["held"] == 9_000_000 and ages[0]["overdue"] == 0
    later = world.now + datetime.timedelta(days=20)
    ages = customs.customs_open_by_age(user=world.tg_officer, now=later)
    assert [a["transits"] for a in ages] == [0, 0, 3, 0, 0] and ages[2]["overdue"] == 3
    corridors = {r["code"]: r for r in customs.customs_open_by_corridor(user=world.tg_officer, now=later)}
    assert (corridors["LOM-OUA"]["transits"], corridors["LOM-OUA"]["overdue"]) == (2, 2)
    # T2 declared 4 days before "now" with a 5-day time limit: 20 days later it is 19 days overdue.
    t2_overdue = (later - world.t2.deadline).days
    assert corridors["LOM-OUA"]["max_days_overdue"] == t2_overdue
    most = customs.customs_most_overdue(user=world.tg_officer, now=later)
    assert most[0].declaration_ref == "TG-T2" and most[0].days_overdue == t2_overdue


def test_customs_release_lead_times(world):
    figures = customs.customs_release_times(user=world.tg_officer, period=last_months(1, today=world.now.date()))
    # T4 only: arrival 2 days ago → discharge 1 day ago (24 h) → released when applied (~24 h before "now").
    assert figures["transits"] == 1
    [office] = figures["offices"]
    assert office["code"] == "BFOUAG" and office["transits"] == 1
    assert office["ad_median"] == pytest.approx(24, abs=0.05)
    assert office["dr_median"] == pytest.approx(24, abs=0.2)
    assert office["ar_p95"] == pytest.approx(48, abs=0.2)
    assert [b["transits"] for b in figures["bands"]] == [0, 0, 0, 1, 0, 0]  # 24–72 h
    assert customs.customs_release_times(user=world.ne_officer, period=last_months(1))["transits"] == 0


def test_customs_enquiries_and_claims(world):
    cases = customs.customs_cases(user=world.tg_officer, period=last_months(3, today=world.now.date()))
    assert [(r["status"], r["cases"], r["amount"]) for r in cases["enquiries"]] == [
        (EnquiryStatus.CLOSED, 1, 4_500_000)]
    assert [(r["status"], r["cases"], r["amount"], r["paid"]) for r in cases["claims"]] == [
        (ClaimStatus.PAID, 1, 4_000_000, 3_000_000)]
    niger = customs.customs_cases(user=world.ne_officer, period=last_months(3))
    assert niger == {"enquiries": [], "claims": []}


def test_forwarder_balances_movements_and_transits(world):
    guarantees = forwarders.forwarder_guarantees(user=world.s.agent)
    assert [g.pk for g in guarantees] == [world.g1.pk]
    period = last_months(2, today=world.now.date())
    series = forwarders.forwarder_balance_over_time(guarantees=guarantees, period=period)[world.g1.pk]
    assert [(p["amount"], p["drawn"], p["available"]) for p in series] == [
        (0, 0, 0), (100_000_000, 11_000_000, 89_000_000)]
    movements = forwarders.forwarder_movements_by_month(user=world.s.agent, period=period)
    # Holds: 4 500 000 + 10 000 000 + 2 000 000 + 3 000 000. Releases: 4 000 000 (partial, T2), 3 000 000 (T4),
    # 500 000 (T1: what the claim did not take, released when it was paid).
    assert (movements[-1]["holds"], movements[-1]["held"]) == (4, 19_500_000)
    assert (movements[-1]["releases"], movements[-1]["released"]) == (3, 7_500_000)
    count, rows = forwarders.forwarder_transits_in_progress(user=world.s.agent)
    assert count == 2 and [t.declaration_ref for t in rows] == ["TG-T2", "TG-T3"]  # nearest time limit first


def test_secretariat_whole_system(world, settings):
    by_country = {r["code"]: r for r in secretariat.system_by_country(user=world.secretariat)}
    assert by_country["BF"]["amount"] == 150_000_000 and by_country["BF"]["available"] == 89_000_000 + 49_000_000
    banks_rows = {r["bank_id"]: r for r in secretariat.system_by_bank(user=world.secretariat, near_pct=80)}
    assert banks_rows[world.s.bank.pk]["exposure"] == 100_000_000
    assert not banks_rows[world.s.bank.pk]["near"]
    near = secretariat.system_by_bank(user=world.secretariat, near_pct=1)
    assert {r["bank_id"] for r in near if r["near"]} == {world.s.bank.pk}  # 100 M of 10 G = 1 %
    corridors = {r["code"]: r["transits"] for r in secretariat.system_by_corridor(user=world.secretariat,
                                                                                  now=world.now)}
    assert corridors == {"LOM-OUA": 2, "LOM-NIA": 1}
    health = secretariat.system_health(now=world.now)
    assert health["events_received"] == 0 and health["unreleased"] == 0 and health["release_lag_count"] == 1


@pytest.mark.postgresql  # PostgreSQL's percentile_cont against the same figures computed in Python
def test_release_lead_times_from_the_database_are_those_computed_in_python(world, monkeypatch):
    from django.db import connections

    from tests.reporting.conftest import _declare, _event

    for n, (arrived, discharged) in enumerate([(3, 2), (4, 1), (2, 2), (None, 1), (5, 3)]):
        ref = f"TG-LT-{n}"
        _declare(world.togo, world.g1, ref, amount=1_000_000, days_ago=6)
        if arrived is not None:
            _event(world.s.customs, ref, f"A-LT-{n}", "arrival", days_ago=arrived)
        _event(world.s.customs, ref, f"D-LT-{n}", "discharge", days_ago=discharged)
    period = last_months(1, today=world.now.date())
    from_sql = customs.customs_release_times(user=world.tg_officer, period=period)
    monkeypatch.setattr(type(connections["reporting"]), "vendor", "sqlite")  # the embedded default's path
    in_python = customs.customs_release_times(user=world.tg_officer, period=period)
    assert from_sql["transits"] == in_python["transits"] == 6
    assert from_sql["bands"] == in_python["bands"]
    assert from_sql["median"] == pytest.approx(in_python["median"]) and from_sql["p95"] == pytest.approx(in_python["p95"])
    for sql_office, python_office in zip(from_sql["offices"], in_python["offices"], strict=True):
        assert sql_office == pytest.approx(python_office)
