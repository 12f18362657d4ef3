"""Amount at stake (DESIGN, Rules): the highest total of duties and taxes in any country on the route.

The expected figures are computed by hand in each test from the seeded rates: TEC band (rice 10 %), RS 1 %
(suspended in Togo for transit goods), PCS 0.8 %, PC-AES 0.5 % (ML/BF/NE since 28 March 2025) or
PC CEDEAO 0.5 % (TG), VAT 18 % (19 % in Niger) on the customs value plus every other duty and tax.
"""

import json
from datetime import date
from decimal import Decimal

import pytest

from guarantees.models import Levy, LevyKind, TariffLine
from guarantees.reference.importer import reference_import
from guarantees.services.amount_at_stake import (
    ILLUSTRATIVE_RATE,
    UNKNOWN_HS_CODE,
    AmountAtStake,
    InvalidCountriesError,
    InvalidGoodsError,
    NoGoodsError,
    amount_at_stake_compute,
)

pytestmark = pytest.mark.django_db

AFTER_PC_AES = date(2025, 6, 1)
BEFORE_PC_AES = date(2025, 3, 1)
RICE = {"hs_code": "1006.30", "customs_value": 25_000_000, "description": "Riz blanchi, 500 t"}


@pytest.fixture(autouse=True)
def seeded():
    reference_import()


def _lines(result, country):
    return [(line["levy"], line["rate_pct"], line["base"], line["amount"]) for line in result.breakdown[country]["lines"]]


def test_rice_niger_wins_because_of_its_vat():
    result = amount_at_stake_compute(goods=[RICE], countries=["TG", "BF", "NE"], on=AFTER_PC_AES)

    # Burkina Faso: duty 10 %, RS 1 %, PCS 0.8 %, PC-AES 0.5 %, then VAT 18 % on value + all of these.
    duty, rs, pcs, pc_aes = 2_500_000, 250_000, 200_000, 125_000
    vat_base_bf = 25_000_000 + duty + rs + pcs + pc_aes  # 28 075 000
    vat_bf = 5_053_500  # 28 075 000 × 18 %
    assert _lines(result, "BF") == [
        ("DD10", "10", 25_000_000, duty),
        ("RS", "1", 25_000_000, rs),
        ("PCS", "0.8", 25_000_000, pcs),
        ("PC-AES", "0.5", 25_000_000, pc_aes),
        ("TVA", "18", vat_base_bf, vat_bf),
    ]
    assert result.breakdown["BF"]["total"] == 8_128_500

    # Niger: the same duties and levies, VAT at 19 %: 28 075 000 × 19 % = 5 334 250.
    assert _lines(result, "NE")[-1] == ("TVA", "19", 28_075_000, 5_334_250)
    assert result.breakdown["NE"]["total"] == 2_500_000 + 250_000 + 200_000 + 125_000 + 5_334_250 == 8_409_250

    # Togo: RS suspended for transit goods, ECOWAS levy instead of PC-AES; VAT 18 % on 27 825 000.
    assert _lines(result, "TG") == [
        ("DD10", "10", 25_000_000, 2_500_000),
        ("PCS", "0.8", 25_000_000, 200_000),
        ("PC", "0.5", 25_000_000, 125_000),
        ("TVA", "18", 27_825_000, 5_008_500),
    ]
    assert result.breakdown["TG"]["total"] == 7_833_500

    assert result.amount == 8_409_250
    assert result.country == "NE"
    assert isinstance(result, AmountAtStake)
    assert type(result.amount) is int
    line = result.breakdown["NE"]["lines"][0]
    assert (line["good"], line["hs_code"], line["band_pct"], line["flags"]) == (0, "100630", "10", [])
    assert ILLUSTRATIVE_RATE in result.warnings  # the seeded tariff is illustrative
    assert UNKNOWN_HS_CODE not in result.warnings


def test_no_pc_aes_before_28_march_2025():
    result = amount_at_stake_compute(goods=[RICE], countries=["BF", "NE"], on=BEFORE_PC_AES)
    assert [line[0] for line in _lines(result, "BF")] == ["DD10", "RS", "PCS", "TVA"]
    # BF: VAT 18 % × (25 000 000 + 2 500 000 + 250 000 + 200 000) = 18 % × 27 950 000 = 5 031 000.
    assert result.breakdown["BF"]["total"] == 2_500_000 + 250_000 + 200_000 + 5_031_000 == 7_981_000
    # NE: 19 % × 27 950 000 = 5 310 500.
    assert result.breakdown["NE"]["total"] == 2_950_000 + 5_310_500 == 8_260_500
    assert (result.amount, result.country) == (8_260_500, "NE")


def test_several_goods_are_added_per_country():
    chicken = {"hs_code": "0207.14", "customs_value": 10_000_000}  # band 35 %
    result = amount_at_stake_compute(goods=[RICE, chicken], countries=["BF"], on=AFTER_PC_AES)
    chicken_lines = [line for line in result.breakdown["BF"]["lines"] if line["good"] == 1]
    # 3 500 000 + 100 000 + 80 000 + 50 000 = 3 730 000; VAT 18 % × 13 730 000 = 2 471 400.
    assert [(line["levy"], line["amount"]) for line in chicken_lines] == [
        ("DD35", 3_500_000), ("RS", 100_000), ("PCS", 80_000), ("PC-AES", 50_000), ("TVA", 2_471_400),
    ]
    assert result.amount == 8_128_500 + 3_730_000 + 2_471_400 == 14_329_900


def test_unknown_hs_code_takes_the_highest_band_and_is_flagged():
    result = amount_at_stake_compute(
        goods=[{"hs_code": "9999.99", "customs_value": 1_000_000}], countries=["BF"], on=AFTER_PC_AES
    )
    # 35 % = 350 000; RS 10 000; PCS 8 000; PC-AES 5 000; VAT 18 % × 1 373 000 = 247 140.
    assert _lines(result, "BF") == [
        ("DD35", "35", 1_000_000, 350_000),
        ("RS", "1", 1_000_000, 10_000),
        ("PCS", "0.8", 1_000_000, 8_000),
        ("PC-AES", "0.5", 1_000_000, 5_000),
        ("TVA", "18", 1_373_000, 247_140),
    ]
    assert result.amount == 620_140
    assert UNKNOWN_HS_CODE in result.warnings
    assert all(line["flags"] == [UNKNOWN_HS_CODE] for line in result.breakdown["BF"]["lines"])
    assert result.breakdown["BF"]["lines"][0]["band_pct"] == "35"


def test_each_line_is_rounded_half_up_to_a_whole_franc():
    result = amount_at_stake_compute(goods=[{"hs_code": "100630", "customs_value": 100}], countries=["BF"], on=AFTER_PC_AES)
    # 10; RS 1; PCS 0.8 → 1; PC-AES 0.5 → 1 (half-up, not half-even); VAT 18 % × 113 = 20.34 → 20.
    assert [line[3] for line in _lines(result, "BF")] == [10, 1, 1, 1, 20]
    assert result.amount == 33


def test_the_result_is_an_int_and_json_serialisable():
    result = amount_at_stake_compute(
        goods=[{"hs_code": "8703.23", "customs_value": 7_777_777}], countries=["ML", "NE"], on=AFTER_PC_AES
    )
    data = json.loads(json.dumps(result.as_dict()))
    assert data["amount"] == result.amount and type(result.amount) is int
    for country in data["breakdown"].values():
        assert type(country["total"]) is int
        for line in country["lines"]:
            assert type(line["amount"]) is int and type(line["base"]) is int
            assert isinstance(line["rate_pct"], str)
    assert "." not in json.dumps(data["amount"])
    assert result.as_dict()["breakdown"] is not result.breakdown


def test_no_goods():
    with pytest.raises(NoGoodsError):
        amount_at_stake_compute(goods=[], countries=["BF"], on=AFTER_PC_AES)
    assert issubclass(NoGoodsError, ValueError)


def test_invalid_goods_are_listed():
    goods = [
        RICE,
        {"hs_code": "1006", "customs_value": 1_000},  # 4 digits
        {"hs_code": "1006.30", "customs_value": 1_000.0},  # float
        {"hs_code": "10063O", "customs_value": 0},  # letter O, zero value
        {"customs_value": 5},
    ]
    with pytest.raises(InvalidGoodsError) as exc:
        amount_at_stake_compute(goods=goods, countries=["BF"], on=AFTER_PC_AES)
    errors = exc.value.errors
    assert set(errors) == {1, 2, 3, 4}
    assert set(errors[1]) == {"hs_code"}
    assert set(errors[2]) == {"customs_value"}
    assert set(errors[3]) == {"hs_code", "customs_value"}
    assert "hs_code" in errors[4]
    assert isinstance(exc.value, ValueError)
    assert "3" in str(exc.value)


def test_countries_are_required_and_known():
    with pytest.raises(InvalidCountriesError):
        amount_at_stake_compute(goods=[RICE], countries=[], on=AFTER_PC_AES)
    with pytest.raises(InvalidCountriesError, match="SN"):
        amount_at_stake_compute(goods=[RICE], countries=["BF", "SN"], on=AFTER_PC_AES)


def test_rates_are_data_edits_by_the_secretariat_apply():
    # Togo's PVI (0.75 %, status unconfirmed) is off by default; switched on, it counts and enters the VAT base.
    Levy.objects.filter(code="PVI").update(in_amount_at_stake=True)
    result = amount_at_stake_compute(goods=[RICE], countries=["TG"], on=AFTER_PC_AES)
    # 2 500 000 + 200 000 + 125 000 + PVI 187 500 = 3 012 500; VAT 18 % × 28 012 500 = 5 042 250.
    assert ("PVI", "0.75", 25_000_000, 187_500) in _lines(result, "TG")
    assert result.amount == 3_012_500 + 5_042_250

    # A new rate from a date: Niger's VAT at 20 % from 2026-01-01 (the old row closed the day before).
    Levy.objects.filter(code="TVA", country="NE").update(valid_until=date(2025, 12, 31))
    Levy.objects.create(
        country_id="NE", code="TVA", name="TVA", kind=LevyKind.VAT, rate_pct=Decimal("20"), valid_from=date(2026, 1, 1)
    )
    assert amount_at_stake_compute(goods=[RICE], countries=["NE"], on=date(2025, 12, 31)).amount == 8_409_250
    # 2 500 000 + 250 000 + 200 000 + 125 000 = 3 075 000; 20 % × 28 075 000 = 5 615 000.
    assert amount_at_stake_compute(goods=[RICE], countries=["NE"], on=date(2026, 1, 1)).amount == 3_075_000 + 5_615_000


def test_a_levy_not_at_stake_is_left_out_and_a_country_row_overrides_all():
    Levy.objects.filter(code="PCS", country="BF").update(in_amount_at_stake=False)
    result = amount_at_stake_compute(goods=[RICE], countries=["BF"], on=AFTER_PC_AES)
    assert "PCS" not in [line[0] for line in _lines(result, "BF")]
    # A hand-made RS row for all countries at 2 %: Burkina's own RS row (1 %) and Togo's (suspended) win.
    Levy.objects.create(code="RS", name="RS", kind=LevyKind.STATISTICAL_FEE, rate_pct=Decimal("2"))
    result = amount_at_stake_compute(goods=[RICE], countries=["BF", "TG"], on=AFTER_PC_AES)
    assert ("RS", "1", 25_000_000, 250_000) in _lines(result, "BF")
    assert "RS" not in [line[0] for line in _lines(result, "TG")]


def test_the_band_comes_from_the_tariff():
    TariffLine.objects.filter(hs_code="100630").update(band_pct=20)
    result = amount_at_stake_compute(goods=[RICE], countries=["BF"], on=AFTER_PC_AES)
    assert _lines(result, "BF")[0] == ("DD20", "20", 25_000_000, 5_000_000)


def test_country_objects_and_duplicates_on_the_route():
    from guarantees.models import Country

    result = amount_at_stake_compute(
        goods=[RICE], countries=[Country.objects.get(code="BF"), "bf", "NE", "NE"], on=AFTER_PC_AES
    )
    assert list(result.breakdown) == ["BF", "NE"]
    assert result.country == "NE"
