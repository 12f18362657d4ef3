"""Seeding the reference data from the CSV files, the rate look-ups and the reference admin."""

import csv
import shutil
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from guarantees.models import Corridor, CorridorStop, Country, Levy, LevyKind, Office, OfficeRole, TariffLine
from guarantees.reference.importer import (
    DEFAULT_DIRECTORY,
    ReferenceImportError,
    hs_digits,
    levy_kind,
    reference_import,
)
from guarantees.selectors.rates import levies_valid_on, tariff_band_for

pytestmark = pytest.mark.django_db

MODELS = (Country, Office, Corridor, CorridorStop, Levy, TariffLine)


def _csv_rows(name):
    with (DEFAULT_DIRECTORY / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _snapshot():
    return {model.__name__: sorted(map(str, (model_to_dict(o) for o in model.objects.all()))) for model in MODELS}


@pytest.fixture
def seeded():
    return reference_import()


def test_first_run_creates_every_row_of_the_files(seeded):
    corridors = _csv_rows("corridors.csv")
    assert Country.objects.count() == 4
    assert Office.objects.count() == 20
    assert Corridor.objects.count() == 5
    assert CorridorStop.objects.count() == sum(len(row["itinerary"].split(";")) for row in corridors) == 37
    assert TariffLine.objects.count() == 33
    # levies.csv has a VAT row per country, so no VAT row is added from countries.csv.
    assert Levy.objects.count() == len(_csv_rows("levies.csv")) == 26
    assert seeded["countries"] == {"created": 4, "updated": 0, "unchanged": 0, "kept": 0}
    assert seeded["offices"]["created"] == 20
    assert seeded["corridors"]["created"] == 5
    assert seeded["levies"]["created"] == 26
    assert seeded["tariff_lines"]["created"] == 33


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    again = reference_import()
    assert _snapshot() == before
    for table, counts in again.items():
        assert counts["created"] == counts["updated"] == counts["kept"] == 0, table
    assert again["offices"]["unchanged"] == 20
    assert again["levies"]["unchanged"] == 26
    # --update on unchanged data changes nothing either.
    assert all(c["updated"] == 0 for c in reference_import(update=True).values())
    assert _snapshot() == before


def test_countries(seeded):
    niger = Country.objects.get(code="NE")
    assert niger.timezone == "Africa/Niamey"
    assert (niger.name_fr, niger.name_en, niger.currency, niger.member_of) == ("Niger", "Niger", "XOF", "AES;UEMOA")
    assert Country.objects.get(code="TG").member_of == "UEMOA;ECOWAS"
    assert set(Country.objects.values_list("timezone", flat=True)) == {
        "Africa/Bamako", "Africa/Ouagadougou", "Africa/Niamey", "Africa/Lome",
    }
    assert "Directive 02/98/CM/UEMOA" in niger.source


def test_offices_roles_pairs_and_coordinates(seeded):
    cinkasse_tg = Office.objects.get(code="TGCINK")
    assert cinkasse_tg.role == OfficeRole.BORDER
    assert cinkasse_tg.paired_with.code == "BFCINK"
    assert Office.objects.get(code="BFCINK").paired_with.code == "TGCINK"
    assert Office.objects.get(code="NEMAKA").paired_with.code == "BFKANT"
    assert Office.objects.get(code="TGLOME").role == OfficeRole.DEPARTURE
    assert Office.objects.get(code="NENIAM").latitude == Decimal("13.51366")
    makalondi = Office.objects.get(code="NEMAKA")
    assert makalondi.latitude is None and makalondi.longitude is None
    assert Office.objects.get(code="BFBITT").is_illustrative  # "unconfirmed: no source found …"
    assert Office.objects.filter(paired_with__isnull=False).count() == 8


def test_corridors_keep_their_stops_in_order(seeded):
    corridor = Corridor.objects.get(code="LOM-NIA")
    assert [o.code for o in corridor.itinerary] == [
        "TGLOME", "TGCINK", "BFCINK", "BFFADA", "BFKANT", "NEMAKA", "NENIAM",
    ]
    assert list(corridor.stops.values_list("position", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    assert corridor.distance_km == 1200
    assert corridor.time_limit_days == 6
    assert Corridor.objects.get(code="LOM-OUA").time_limit_days == 5
    # The time limit is the computed default transit time: every seeded corridor says so.
    assert not Corridor.objects.filter(is_illustrative=False).exists()


def test_levies(seeded):
    dd10 = Levy.objects.get(code="DD10")
    assert dd10.country is None and dd10.kind == LevyKind.CUSTOMS_DUTY and dd10.rate_pct == 10
    assert dd10.valid_from == date(2015, 1, 1) and dd10.in_amount_at_stake
    assert Levy.objects.filter(kind=LevyKind.CUSTOMS_DUTY, country__isnull=True).count() == 5

    pc_aes = Levy.objects.filter(code="PC-AES")
    assert sorted(pc_aes.values_list("country_id", flat=True)) == ["BF", "ML", "NE"]
    assert {(l.kind, l.rate_pct, l.valid_from, l.in_amount_at_stake) for l in pc_aes} == {
        (LevyKind.COMMUNITY_LEVY, Decimal("0.5"), date(2025, 3, 28), True)
    }
    pc_tg = Levy.objects.get(code="PC")
    assert (pc_tg.country_id, pc_tg.kind, pc_tg.in_amount_at_stake) == ("TG", LevyKind.COMMUNITY_LEVY, True)

    assert Levy.objects.get(code="PCS", country="BF").kind == LevyKind.SOLIDARITY_LEVY
    assert Levy.objects.get(code="PCS", country="BF").rate_pct == Decimal("0.8")
    vat_ne = Levy.objects.get(code="TVA", country="NE")
    assert (vat_ne.kind, vat_ne.rate_pct, vat_ne.valid_from) == (LevyKind.VAT, 19, None)

    # Togo suspends the statistical fee for goods in transit to BF/ML/NE.
    assert Levy.objects.get(code="RS", country="TG").in_amount_at_stake is False
    assert Levy.objects.get(code="RS", country="BF").in_amount_at_stake is True
    # Specific (per tonne, per declaration) and per-product levies: no rate, not at stake.
    for code in ("TPI", "RI", "ISCP"):
        levy = Levy.objects.get(code=code)
        assert levy.rate_pct is None and levy.in_amount_at_stake is False and levy.kind == LevyKind.OTHER
    assert Levy.objects.get(code="PVI").in_amount_at_stake is False
    # "unconfirmed" in the source marks the row.
    assert Levy.objects.get(code="RS", country="ML").is_illustrative
    assert not Levy.objects.get(code="RS", country="BF").is_illustrative
    assert "Protocol A/P1/7/96" in pc_tg.source


def test_tariff_lines(seeded):
    rice = TariffLine.objects.get(hs_code="100630")
    assert rice.band_pct == 10 and rice.is_illustrative and rice.valid_from is None
    assert rice.description_en == "Semi-milled or wholly milled rice"
    assert TariffLine.objects.get(hs_code="84").band_pct == 5
    assert TariffLine.objects.get(hs_code="9403").band_pct == 35


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DD35", LevyKind.CUSTOMS_DUTY), ("TVA", LevyKind.VAT), ("VAT", LevyKind.VAT),
        ("RS", LevyKind.STATISTICAL_FEE), ("PCS", LevyKind.SOLIDARITY_LEVY), ("PC", LevyKind.COMMUNITY_LEVY),
        ("PC-AES", LevyKind.COMMUNITY_LEVY), ("PC CEDEAO", LevyKind.COMMUNITY_LEVY), ("TD", LevyKind.OTHER),
    ],
)
def test_levy_kind(code, kind):
    assert levy_kind(code) == kind


def test_hs_digits():
    assert hs_digits("1006.30") == "100630"
    assert hs_digits(" 8471 30 00 ") == "84713000"


def test_an_edit_survives_a_reseed_unless_update(seeded):
    Levy.objects.filter(code="TVA", country="NE").update(rate_pct=Decimal("20"))
    Corridor.objects.filter(code="LOM-OUA").update(time_limit_days=4)
    Office.objects.filter(code="TGCINK").update(paired_with=None, name="PCJ Cinkassé")
    CorridorStop.objects.filter(corridor__code="LOM-NIA", position=7).delete()

    counts = reference_import()
    assert Levy.objects.get(code="TVA", country="NE").rate_pct == 20
    assert Corridor.objects.get(code="LOM-OUA").time_limit_days == 4
    office = Office.objects.get(code="TGCINK")
    assert (office.name, office.paired_with) == ("PCJ Cinkassé", None)
    assert Corridor.objects.get(code="LOM-NIA").stops.count() == 6
    assert counts["levies"]["kept"] == 1 and counts["corridors"]["kept"] == 2 and counts["offices"]["kept"] == 1

    counts = reference_import(update=True)
    assert Levy.objects.get(code="TVA", country="NE").rate_pct == 19
    assert Corridor.objects.get(code="LOM-OUA").time_limit_days == 5
    assert Office.objects.get(code="TGCINK").paired_with.code == "BFCINK"
    assert [o.code for o in Corridor.objects.get(code="LOM-NIA").itinerary][-1] == "NENIAM"
    assert counts["levies"]["updated"] == 1 and counts["corridors"]["updated"] == 2
    assert counts["offices"]["updated"] == 1


def test_a_deleted_row_is_created_again(seeded):
    Levy.objects.filter(code="PC-AES", country="NE").delete()
    counts = reference_import()
    assert counts["levies"] == {"created": 1, "updated": 0, "unchanged": 25, "kept": 0}
    assert Levy.objects.filter(code="PC-AES", country="NE").exists()


def test_vat_rows_come_from_countries_csv_when_levies_csv_has_none(tmp_path):
    for name in ("countries.csv", "offices.csv", "corridors.csv", "tec_bands.csv"):
        shutil.copy(DEFAULT_DIRECTORY / name, tmp_path / name)
    rows = [row for row in _csv_rows("levies.csv") if row["levy_code"] != "TVA"]
    with (tmp_path / "levies.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    reference_import(directory=tmp_path)
    vat = dict(Levy.objects.filter(kind=LevyKind.VAT).values_list("country_id", "rate_pct"))
    assert vat == {"ML": 18, "BF": 18, "NE": 19, "TG": 18}
    assert Levy.objects.get(kind=LevyKind.VAT, country="NE").in_amount_at_stake
    assert reference_import(directory=tmp_path)["levies"]["created"] == 0


def test_a_bad_file_imports_nothing(tmp_path):
    for name in ("countries.csv", "offices.csv", "levies.csv", "tec_bands.csv"):
        shutil.copy(DEFAULT_DIRECTORY / name, tmp_path / name)
    text = (DEFAULT_DIRECTORY / "corridors.csv").read_text(encoding="utf-8").replace("TGLOME;TGCINK", "TGLOME;XXNOPE", 1)
    (tmp_path / "corridors.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ReferenceImportError, match="XXNOPE"):
        reference_import(directory=tmp_path)
    assert not Country.objects.exists()


def test_missing_file(tmp_path):
    with pytest.raises(ReferenceImportError):
        reference_import(directory=tmp_path)


def test_command_reports_counts():
    out = StringIO()
    call_command("seed_reference", stdout=out)
    assert "20" in out.getvalue()
    Levy.objects.filter(code="TVA", country="BF").update(rate_pct=17)
    out = StringIO()
    call_command("seed_reference", stdout=out)
    assert Levy.objects.get(code="TVA", country="BF").rate_pct == 17
    call_command("seed_reference", "--update", stdout=StringIO())
    assert Levy.objects.get(code="TVA", country="BF").rate_pct == 18


# --- rate look-ups ----------------------------------------------------------------------------------------


def test_band_longest_prefix(seeded):
    # Seeded: chapter 84 → 5 %. Hand-made: heading 8471 → 0 %, subheading 847130 → 20 %.
    TariffLine.objects.create(hs_code="8471", description_fr="Ordinateurs", band_pct=0)
    TariffLine.objects.create(hs_code="847130", description_fr="Ordinateurs portables", band_pct=20)
    assert tariff_band_for(hs_code="8471.30.00", on=date(2025, 6, 1)).hs_code == "847130"
    assert tariff_band_for(hs_code="8471.41", on=date(2025, 6, 1)).band_pct == 0
    assert tariff_band_for(hs_code="8409.91", on=date(2025, 6, 1)).hs_code == "84"
    assert tariff_band_for(hs_code="1006.30", on=date(2025, 6, 1)).band_pct == 10
    assert tariff_band_for(hs_code="9999.99", on=date(2025, 6, 1)) is None


def test_band_respects_validity_dates(seeded):
    TariffLine.objects.create(
        hs_code="100630", description_fr="Riz (nouveau taux)", band_pct=5, valid_from=date(2026, 1, 1)
    )
    TariffLine.objects.create(
        hs_code="8471", description_fr="Ordinateurs (ancien)", band_pct=20, valid_until=date(2020, 12, 31)
    )
    assert tariff_band_for(hs_code="100630", on=date(2025, 12, 31)).band_pct == 10
    assert tariff_band_for(hs_code="100630", on=date(2026, 1, 1)).band_pct == 5
    assert tariff_band_for(hs_code="847130", on=date(2020, 6, 1)).band_pct == 20
    assert tariff_band_for(hs_code="847130", on=date(2021, 1, 1)).hs_code == "84"


def test_levies_valid_on_date(seeded):
    before = {levy.code for levy in levies_valid_on(country="BF", on=date(2025, 3, 1))}
    after = {levy.code for levy in levies_valid_on(country=Country.objects.get(code="BF"), on=date(2025, 3, 28))}
    assert "PC-AES" not in before
    assert after - before == {"PC-AES"}
    assert {"DD0", "DD5", "DD10", "DD20", "DD35", "RS", "PCS", "TVA"} <= before
    # Togo's rows only for Togo; the ALL rows for everybody; NULL valid_from = since always.
    togo = {levy.code for levy in levies_valid_on(country="TG", on=date(2025, 6, 1))}
    assert {"PC", "PVI", "TVA", "DD10"} <= togo and "PC-AES" not in togo
    assert all(levy.country_id in (None, "BF") for levy in levies_valid_on(country="BF", on=date(2025, 6, 1)))
    # Nothing started in 1990 but the NULL-dated VAT rows.
    assert {levy.code for levy in levies_valid_on(country="NE", on=date(1990, 1, 1))} == {"TVA"}


def test_levies_valid_until(seeded):
    Levy.objects.filter(code="PC", country="TG").update(valid_until=date(2025, 12, 31))
    assert "PC" in {levy.code for levy in levies_valid_on(country="TG", on=date(2025, 12, 31))}
    assert "PC" not in {levy.code for levy in levies_valid_on(country="TG", on=date(2026, 1, 1))}


# --- admin ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["country", "office", "corridor", "levy", "tariffline"])
def test_admin_pages(seeded, admin_client, model):
    from django.urls import reverse

    obj = {
        "country": lambda: Country.objects.get(code="NE"),
        "office": lambda: Office.objects.get(code="TGCINK"),
        "corridor": lambda: Corridor.objects.get(code="LOM-NIA"),
        "levy": lambda: Levy.objects.get(code="PC-AES", country="NE"),
        "tariffline": lambda: TariffLine.objects.get(hs_code="100630"),
    }[model]()
    assert admin_client.get(reverse(f"admin:guarantees_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:guarantees_{model}_changelist"), {"q": "a"}).status_code == 200
    page = admin_client.get(reverse(f"admin:guarantees_{model}_change", args=[obj.pk]))
    assert page.status_code == 200
    assert b"<textarea" in page.content
