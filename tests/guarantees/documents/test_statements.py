"""Monthly statements against hand-computed figures: a guarantee of 100 000 000 FCFA at a Burkinabè bank whose
September 2026 has a hold, a partial discharge, a hold taken and discharged, and a claim of 8 000 000 on a hold of
10 000 000 paid 5 000 000 — the rest of the claim and of the hold released. The clock is set for each step (the
ledger dates its entries with ``timezone.now``). Signature, idempotency, the beat's month, each configured language
(the reader's served), the charts, and who may see them."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import Role
from guarantees.documents.renderer import StatementRenderer
from guarantees.documents.signing import pdf_verify
from guarantees.errors import InvalidTransition
from guarantees.models import EntryKind, Statement
from guarantees.reference.importer import reference_import
from guarantees.selectors.statements import month_bounds, statement_days, statement_figures, statement_weeks
from guarantees.services.claims import claim_examine, claim_issue, claim_pay, claim_prepare
from guarantees.services.enquiries import enquiry_open
from guarantees.services.events import transit_event_apply, transit_event_receive
from guarantees.services.ledger import ledger_verify
from guarantees.services.statements import (
    statement_issue,
    statement_issue_every_language,
    statement_months,
    statements_issue_for_month,
)
from guarantees.tasks import issue_statement
from tests.builders import declare_as_of, active_guarantee, scene
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, SecretariatFactory, country, member
from tests.guarantees.exports.conftest import client_for

from .conftest import pdftoppm_first_page, pdftotext

UTC = datetime.timezone.utc
SEPTEMBER = datetime.date(2026, 9, 1)


class Clock:
    def __init__(self, monkeypatch):
        self.at = None
        monkeypatch.setattr(timezone, "now", lambda: self.at)

    def set(self, *args):
        self.at = datetime.datetime(*args, tzinfo=UTC)
        return self.at


@pytest.fixture
def september(db, settings, monkeypatch, tmp_path):
    """The world, built in August–October 2026; the clock left on 2026-11-03."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.REGISTRY_CLAIM_WAITING_DAYS = 0
    clock = Clock(monkeypatch)
    clock.set(2026, 8, 10, 9, 0)
    reference_import()
    s = scene("BF")
    togo = CustomsFactory(country=country("TG"))
    g = active_guarantee(s, amount=100_000_000)

    def declare(ref, amount, at):
        clock.set(*at)
        transit, _ = declare_as_of(sender=togo, guarantee=g, data={
            "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
            "corridor": "LOM-OUA", "declared_at": clock.at, "amount": amount,
        })
        return transit

    def event(ref, message_id, type, at, **extra):
        clock.set(*at)
        ev, _ = transit_event_receive(sender=s.customs, data={
            "message_id": message_id, "declaration_ref": ref, "type": type, "office": "BFOUAG",
            "occurred_at": clock.at.isoformat(), **extra})
        transit_event_apply(event_id=ev.pk)

    declare("T1", 4_500_000, (2026, 8, 20, 10, 0))
    t2 = declare("T2", 10_000_000, (2026, 9, 3, 8, 0))
    event("T1", "M1", "partial_discharge", (2026, 9, 5, 12, 0), amount_released=1_500_000)
    declare("T3", 2_000_000, (2026, 9, 10, 7, 0))
    event("T3", "M3", "discharge", (2026, 9, 12, 16, 0))
    clock.set(2026, 9, 15, 9, 0)
    enquiry_open(transit=t2, by=s.officer, ground="irregular", reason="Scellés rompus.")
    clock.set(2026, 9, 16, 9, 0)
    claim = claim_issue(transit=t2, by=s.supervisor, grounds="Marchandises détournées.", amount=8_000_000)
    clock.set(2026, 9, 17, 9, 0)
    claim = claim_examine(claim=claim, by=s.maker)
    claim_prepare(claim=claim, by=s.maker, decision="pay", amount=5_000_000, comment="Justifié en partie.")
    clock.set(2026, 9, 25, 15, 0)
    claim_pay(claim=claim, by=s.checker, amount=5_000_000, payment_reference="VIR-2026-0925",
              payment_date=datetime.date(2026, 9, 25))
    declare("T4", 1_000_000, (2026, 10, 2, 8, 0))  # October: not in September's statement
    clock.set(2026, 11, 3, 6, 0)
    g.refresh_from_db()
    return s, g, clock


def test_september_figures_match_the_hand_computed_ones(september):
    s, g, clock = september
    figures = statement_figures(guarantee=g, month=SEPTEMBER)
    assert figures["zone"] == "Africa/Ouagadougou" and figures["month"] == "2026-09"
    # Before 1 September: 100 000 000 activated, 4 500 000 held for T1.
    assert figures["opening"] == {"amount": 100_000_000, "held": 4_500_000, "claimed": 0, "paid": 0,
                                  "available": 95_500_000}
    movements = [(m["kind"], m["transit"], m["d_held"], m["d_claimed"], m["d_paid"], m["available"])
                 for m in figures["movements"]]
    assert movements == [
        (EntryKind.HOLD, "T2", 10_000_000, 0, 0, 85_500_000),
        (EntryKind.PARTIAL_RELEASE, "T1", -1_500_000, 0, 0, 87_000_000),
        (EntryKind.HOLD, "T3", 2_000_000, 0, 0, 85_000_000),
        (EntryKind.RELEASE, "T3", -2_000_000, 0, 0, 87_000_000),
        (EntryKind.CLAIM, "T2", -8_000_000, 8_000_000, 0, 87_000_000),
        (EntryKind.PAYMENT, "T2", 0, -5_000_000, 5_000_000, 87_000_000),
        (EntryKind.RELEASE, "T2", -2_000_000, -3_000_000, 0, 92_000_000),
    ]
    # Held: 4.5 + 10 − 1.5 + 2 − 2 − 8 − 2 = 3 M (what is left of T1); paid 5 M; available 100 − 3 − 5 = 92 M.
    assert figures["closing"] == {"amount": 100_000_000, "held": 3_000_000, "claimed": 0, "paid": 5_000_000,
                                  "available": 92_000_000}
    assert figures["by_kind"]["hold"] == {"count": 2, "d_amount": 0, "d_held": 12_000_000, "d_claimed": 0, "d_paid": 0}
    assert figures["by_kind"]["payment"]["d_paid"] == 5_000_000
    # The ledger agrees: today's balances are September's closing plus October's one hold of 1 000 000.
    assert (g.amount, g.held, g.claimed, g.paid) == (100_000_000, 4_000_000, 0, 5_000_000)
    october = statement_figures(guarantee=g, month=datetime.date(2026, 10, 1))
    assert october["opening"] == figures["closing"]
    assert october["closing"]["held"] == g.held and [m["transit"] for m in october["movements"]] == ["T4"]
    assert ledger_verify() == []


def test_the_statement_is_signed_prints_the_figures_and_is_issued_once(september, registry_signing_key, tmp_path,
                                                                        output_dir, settings):
    s, g, clock = september
    settings.CERTIFICATE_LANGUAGES = ["fr"]
    statement = statement_issue(guarantee=g, month=SEPTEMBER)
    assert (statement.opening_available, statement.closing_available, statement.entries) == (95_500_000, 92_000_000, 7)
    pdf = bytes(Statement.objects.with_pdf().get(pk=statement.pk).pdf)
    check = pdf_verify(pdf)
    assert check.ok, check
    text = pdftotext(pdf, tmp_path, "statement")
    for expected in ("RELEVÉ DE LA CAUTION", g.grn, "95 500 000 FCFA", "92 000 000 FCFA", "T2", "VIR-2026-0925",
                     "Paiement sur mise en jeu", "Libération partielle", "01/09/2026 – 30/09/2026"):
        assert expected in text, expected
    assert "T4" not in text
    png = pdftoppm_first_page(pdf, output_dir / "statement-2026-09")
    assert png.exists()
    # Again, and again from the beat: the same statement, the same figures; none for the month not over.
    assert statement_issue(guarantee=g, month=SEPTEMBER).pk == statement.pk
    assert Statement.objects.filter(guarantee=g).count() == 1
    assert statement.content["figures"] == statement_figures(guarantee=g, month=SEPTEMBER)
    with pytest.raises(InvalidTransition):
        statement_issue(guarantee=g, month=datetime.date(2026, 11, 1))
    with pytest.raises(InvalidTransition):
        statement_issue(guarantee=g, month=datetime.date(2026, 7, 1))  # before its activation
    assert statement_months(guarantee=g) == [datetime.date(2026, 10, 1), SEPTEMBER, datetime.date(2026, 8, 1)]


def test_the_beat_issues_last_month_for_every_guarantee_once(september, registry_signing_key,
                                                             django_capture_on_commit_callbacks):
    s, g, clock = september
    other = active_guarantee(scene("BF"), amount=20_000_000)  # activated in November: nothing for October
    october = datetime.date(2026, 10, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_issue_for_month() == 1  # October, for the guarantee active then, in each language
    assert sorted(Statement.objects.values_list("guarantee_id", "month", "language")) == [
        (g.pk, october, "en"), (g.pk, october, "fr")]
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_issue_for_month() == 0  # a message delivered twice issues nothing more
    assert Statement.objects.count() == 2 and not other.statements.exists()
    # A task delivered twice finds both stored.
    assert sorted(issue_statement(guarantee_id=g.pk, month=october.isoformat())) == sorted(
        Statement.objects.values_list("pk", flat=True))
    # September, asked again for both (a catch-up): only the one active then gets it.
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_issue_for_month(month=SEPTEMBER) == 1
    assert {s.language: s.closing_available for s in Statement.objects.filter(month=SEPTEMBER)} == {
        "fr": 92_000_000, "en": 92_000_000}


def test_the_beat_completes_a_month_issued_in_one_language_only(september, registry_signing_key,
                                                                django_capture_on_commit_callbacks):
    s, g, clock = september
    french = statement_issue(guarantee=g, month=SEPTEMBER)  # as statements were issued before: French only
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_issue_for_month(month=SEPTEMBER) == 1
    english = Statement.objects.get(guarantee=g, month=SEPTEMBER, language="en")
    # Both print the same content: the one issued first set it.
    assert english.content == french.content and english.sha256 != french.sha256
    assert Statement.objects.get(guarantee=g, month=SEPTEMBER, language="fr").pk == french.pk


def test_month_bounds_follow_the_zone_of_the_guarantees_country(db):
    reference_import()
    g = active_guarantee(scene("NE"), amount=1_000_000)
    start, end = month_bounds(guarantee=g, month=SEPTEMBER)
    assert start.astimezone(UTC) == datetime.datetime(2026, 8, 31, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime.datetime(2026, 9, 30, 23, 0, tzinfo=UTC)


def test_only_the_principal_and_the_bank_see_the_statements(september, registry_signing_key):
    s, g, clock = september
    statement_issue(guarantee=g, month=SEPTEMBER)
    pages = [reverse("guarantees:statements", args=[g.pk]),
             reverse("guarantees:statement_download", args=[g.pk, 2026, 9])]
    for user in (s.agent, s.checker, s.maker):
        client = client_for(user)
        assert client.get(pages[0]).status_code == 200
        download = client.get(pages[1])
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert bytes(download.content).startswith(b"%PDF")
    outsiders = [
        s.officer,  # customs of the country of issue see the guarantee, not its statements
        member(SecretariatFactory(), Role.SECRETARIAT_ADMIN),
        member(ForwarderFactory(country=country("BF")), Role.FORWARDER_AGENT),
        member(BankFactory(organisation__country=country("BF")).organisation, Role.BANK_CHECKER),
    ]
    for user in outsiders:
        client = client_for(user)
        for page in pages:
            assert client.get(page).status_code == 404, (user, page)
        assert client.post(reverse("guarantees:statement_issue", args=[g.pk]), {"month": "2026-10"}).status_code == 404
    assert not Statement.objects.filter(month=datetime.date(2026, 10, 1)).exists()
    detail = client_for(s.agent).get(reverse("guarantees:detail", args=[g.pk])).content.decode()
    assert 'data-testid="statements-link"' in detail
    assert 'data-testid="statements-link"' not in client_for(s.officer).get(
        reverse("guarantees:detail", args=[g.pk])).content.decode()


def test_issued_on_demand_from_the_page(september, registry_signing_key):
    s, g, clock = september
    client = client_for(s.agent)
    response = client.post(reverse("guarantees:statement_issue", args=[g.pk]), {"month": "2026-10"})
    assert response.status_code == 302
    issued = Statement.objects.filter(guarantee=g)  # in every language, whoever reads it
    assert sorted(issued.values_list("month", "language", "entries")) == [
        (datetime.date(2026, 10, 1), "en", 1), (datetime.date(2026, 10, 1), "fr", 1)]
    page = client.get(reverse("guarantees:statements", args=[g.pk])).content.decode()
    assert reverse("guarantees:statement_download", args=[g.pk, 2026, 10]) in page
    refused = client.post(reverse("guarantees:statement_issue", args=[g.pk]), {"month": "2026-11"}, follow=True)
    assert refused.status_code == 200 and Statement.objects.filter(guarantee=g).count() == 2
    assert client.get(reverse("guarantees:statement_download", args=[g.pk, 2026, 13])).status_code == 404


def test_the_charts_figures_day_by_day_and_week_by_week(september):
    s, g, clock = september
    figures = statement_figures(guarantee=g, month=SEPTEMBER)
    days = statement_days(figures)
    assert len(days) == 30 and days[0]["day"] == SEPTEMBER and days[-1]["day"] == datetime.date(2026, 9, 30)
    assert days[0]["available"] == 95_500_000  # nothing on the 1st: the opening
    assert (days[2]["available"], days[2]["held"]) == (85_500_000, 14_500_000)  # T2 held on the 3rd
    assert {k: days[-1][k] for k in figures["closing"]} == figures["closing"]
    weeks = [(w["first"].day, w["last"].day, w["holds"], w["held"], w["releases"], w["released"])
             for w in statement_weeks(figures)]
    assert weeks == [
        (1, 7, 1, 10_000_000, 1, 1_500_000),  # T2 held; T1 partly released
        (8, 14, 1, 2_000_000, 1, 2_000_000),  # T3 held and released
        (15, 21, 0, 0, 0, 0),  # the claim turns held into claimed: not a release
        (22, 28, 0, 0, 1, 2_000_000),  # what is left of T2 after the payment
        (29, 30, 0, 0, 0, 0),
    ]


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ("Soldes en fin de journée", "Imputations et libérations, semaine par semaine", "Disponible")),
    ("en", ("Balances at the end of each day", "Held and released, week by week", "Available")),
])
def test_the_statement_draws_the_charts_in_its_language(september, registry_signing_key, tmp_path, output_dir,
                                                        language, words):
    s, g, clock = september
    statement = statement_issue(guarantee=g, month=SEPTEMBER, language=language)
    renderer = StatementRenderer(content=statement.content)
    with translation.override(language):
        html = render_to_string(renderer.template_name, renderer.context(language))
    assert html.count('<svg class="chart"') == 2  # the balances by day and the holds and releases by week
    assert f'aria-label="{words[0]}"' in html and f'aria-label="{words[1]}"' in html
    pdf = bytes(Statement.objects.with_pdf().get(pk=statement.pk).pdf)
    text = pdftotext(pdf, tmp_path, f"statement-{language}")
    for expected in (*words, "30/09", "22–28/09", "95 500 000 FCFA"):
        assert expected in text, expected
    pdftoppm_first_page(pdf, output_dir / f"statement-2026-09-{language}")


def test_every_language_is_issued_once_and_prints_the_same_content(september, registry_signing_key, tmp_path):
    s, g, clock = september
    statements = statement_issue_every_language(guarantee=g, month=SEPTEMBER)
    assert [st.language for st in statements] == ["fr", "en"]
    assert [st.filename for st in statements] == [f"releve-{g.grn}-2026-09.pdf", f"statement-{g.grn}-2026-09.pdf"]
    assert statements[0].content == statements[1].content
    again = statement_issue_every_language(guarantee=g, month=SEPTEMBER)
    assert [st.pk for st in again] == [st.pk for st in statements]
    assert Statement.objects.filter(guarantee=g).count() == 2
    english = pdftotext(bytes(Statement.objects.with_pdf().get(pk=statements[1].pk).pdf), tmp_path, "en")
    assert "STATEMENT OF THE GUARANTEE" in english and "RELEVÉ" not in english
    with pytest.raises(ValueError):
        statement_issue(guarantee=g, month=SEPTEMBER, language="de")


def test_the_reader_gets_the_statement_in_their_language_issued_on_demand(september, registry_signing_key,
                                                                          tmp_path):
    s, g, clock = september
    statement_issue(guarantee=g, month=SEPTEMBER)  # French only, as before statements came in each language
    url = reverse("guarantees:statement_download", args=[g.pk, 2026, 9])
    for user, language in ((s.agent, "en"), (s.checker, "fr")):
        user.language = language
        user.save(update_fields=["language"])
    english = client_for(s.agent)
    english.cookies["cu_language"] = "en"
    response = english.get(url)
    assert response.status_code == 200
    assert f'filename="statement-{g.grn}-2026-09.pdf"' in response["Content-Disposition"]
    text = pdftotext(bytes(response.content), tmp_path, "download-en")
    assert "STATEMENT OF THE GUARANTEE" in text and "Balances at the end of each day" in text
    assert english.get(url).content == response.content  # issued once: the second download serves it
    assert sorted(Statement.objects.filter(guarantee=g).values_list("language", flat=True)) == ["en", "fr"]
    french = client_for(s.checker)
    french.cookies["cu_language"] = "fr"
    response = french.get(url)
    assert f'filename="releve-{g.grn}-2026-09.pdf"' in response["Content-Disposition"]
    assert "RELEVÉ DE LA CAUTION" in pdftotext(bytes(response.content), tmp_path, "download-fr")
    # A month nobody issued is not issued by a link.
    assert english.get(reverse("guarantees:statement_download", args=[g.pk, 2026, 10])).status_code == 404
    assert not Statement.objects.filter(month=datetime.date(2026, 10, 1)).exists()
