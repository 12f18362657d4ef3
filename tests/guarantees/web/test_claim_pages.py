"""The enquiry, release and claim pages: one role × page matrix (200/403/404/302), refused POSTs that change
nothing, and the flows through the forms (uploads, refusals shown on the form, PDFs)."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guarantees.models import Claim, ClaimStatus, Enquiry, Hold, ManualRelease, TransitStatus
from guarantees.services.claims import claim_issue, claim_reject
from guarantees.services.enquiries import enquiry_answer, release_propose
from guarantees.services.ledger import ledger_verify
from tests.accounts.helpers import give_totp, sign_in_as
from tests.builders import balances

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ROLES = ("agent", "agent_other", "maker", "checker", "checker_other", "bf_officer", "bf_supervisor",
         "tg_officer", "tg_supervisor", "ne_supervisor", "secretariat", "anonymous")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ON_ROUTE = {"bf_officer", "bf_supervisor", "tg_officer", "tg_supervisor"}
SEES_CASE = {"agent", "maker", "checker", "secretariat"} | ON_ROUTE
HIDDEN_CASE = {"agent_other", "checker_other", "ne_supervisor"}
CUSTOMS = ON_ROUTE | {"ne_supervisor"}
SUPERVISORS_ON_ROUTE = {"bf_supervisor", "tg_supervisor"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pages(world):
    s = world.s
    people = {
        "agent": s.agent, "agent_other": world.other_agent, "maker": s.maker, "checker": s.checker,
        "checker_other": world.other_checker, "bf_officer": s.officer, "bf_supervisor": s.supervisor,
        "tg_officer": world.tg_officer, "tg_supervisor": world.tg_supervisor, "ne_supervisor": world.ne_supervisor,
        "secretariat": world.secretariat,
    }
    for user in people.values():
        if user.mfa_required:
            give_totp(user)
    transit, enquiry = world.noticed("TG-LOME-2026-T-000001", by=world.tg_officer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = enquiry_answer(enquiry=enquiry, by=s.agent, kind="proof", text="Voir le certificat.",
                            files=[SimpleUploadedFile("certificat.pdf", PDF)])
    release = release_propose(transit=transit, by=world.tg_officer, ground="proof_accepted", reason="Preuve reçue.")
    claimed, _ = world.noticed("TG-LOME-2026-T-000002")
    claim = claim_issue(transit=claimed, by=s.supervisor, grounds="Non apuré.", amount=4_000_000)
    claim = claim_reject(claim=claim, by=s.checker, discrepancies=["Déclaration inconnue", "Montant non justifié"])
    return {"people": people, "transit": transit, "enquiry": enquiry, "document": answer.documents.get(),
            "release": release, "claimed": claimed, "claim": claim, "world": world}


def expected(ok=frozenset(), hidden=frozenset()) -> dict[str, int]:
    row = {role: 403 for role in ROLES}
    row["anonymous"] = 302
    row.update({role: 200 for role in ok})
    row.update({role: 404 for role in hidden})
    return row


def _pk(key):
    return lambda p: [p[key].pk]


MATRIX = [
    ("enquiries", lambda p: [], expected(ok=SIGNED_IN)),
    ("enquiry_detail", _pk("enquiry"), expected(ok=SEES_CASE, hidden=HIDDEN_CASE)),
    ("enquiry_open", _pk("transit"), expected(ok=ON_ROUTE, hidden={"ne_supervisor"})),
    ("enquiry_answer", _pk("enquiry"), expected(ok={"agent"}, hidden={"agent_other"})),
    ("enquiry_close", _pk("enquiry"), expected(ok=ON_ROUTE, hidden={"ne_supervisor"})),
    ("enquiry_document", _pk("document"), expected(ok=SEES_CASE, hidden=HIDDEN_CASE)),
    ("release_propose", _pk("transit"), expected(ok=ON_ROUTE, hidden={"ne_supervisor"})),
    ("release_approve", _pk("release"), expected(ok=SUPERVISORS_ON_ROUTE, hidden={"ne_supervisor"})),
    ("release_refuse", _pk("release"), expected(ok=SUPERVISORS_ON_ROUTE, hidden={"ne_supervisor"})),
    ("claims", lambda p: [], expected(ok=SIGNED_IN)),
    ("claim_detail", _pk("claim"), expected(ok=SEES_CASE, hidden=HIDDEN_CASE)),
    ("claim_issue", _pk("transit"), expected(ok=SUPERVISORS_ON_ROUTE, hidden={"ne_supervisor"})),
    ("claim_examine", _pk("claim"), expected(ok={"maker", "checker"}, hidden={"checker_other"})),
    ("claim_prepare", _pk("claim"), expected(ok={"maker"})),
    ("claim_pay", _pk("claim"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("claim_reject", _pk("claim"), expected(ok={"checker"}, hidden={"checker_other"})),
    ("claim_reissue", _pk("claim"), expected(ok=SUPERVISORS_ON_ROUTE, hidden={"ne_supervisor"})),
    ("claim_withdraw", _pk("claim"), expected(ok=SUPERVISORS_ON_ROUTE, hidden={"ne_supervisor"})),
    ("claim_letter", _pk("claim"), expected(ok=SEES_CASE, hidden=HIDDEN_CASE)),
    ("claim_rejection_notice", _pk("claim"), expected(ok=SEES_CASE, hidden=HIDDEN_CASE)),
]


def _status(client: Client, url: str, method: str = "get") -> int:
    response = getattr(client, method)(url)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_login")), response["Location"]
    return response.status_code


def _client(pages, role) -> Client:
    client = Client()
    if role != "anonymous":
        sign_in_as(client, pages["people"][role])
    return client


@pytest.mark.parametrize(("url_name", "args", "row"), MATRIX, ids=[m[0] for m in MATRIX])
def test_role_page_matrix(pages, url_name, args, row):
    url = reverse(f"guarantees:{url_name}", args=args(pages))
    assert {role: _status(_client(pages, role), url) for role in ROLES} == row


ACTIONS = [m for m in MATRIX if m[0] not in {"enquiries", "enquiry_detail", "enquiry_document", "claims",
                                             "claim_detail", "claim_letter", "claim_rejection_notice"}]


def _snapshot():
    return (
        sorted(Claim.objects.values_list("pk", "status", "amount")),
        sorted(Enquiry.objects.values_list("pk", "status")),
        sorted(ManualRelease.objects.values_list("pk", "status")),
        sorted(Hold.objects.values_list("pk", "status", "amount", "claimed_amount", "paid_amount")),
    )


@pytest.mark.parametrize(("url_name", "args", "row"), ACTIONS, ids=[m[0] for m in ACTIONS])
def test_refused_post_changes_nothing(pages, url_name, args, row):
    url = reverse(f"guarantees:{url_name}", args=args(pages))
    before = _snapshot()
    for role, status in row.items():
        if status != 200:
            assert _status(_client(pages, role), url, "post") == status, role
    assert _snapshot() == before


def test_lists_show_each_side_its_own_cases(pages):
    claim = pages["claim"]
    for role, sees in (("checker", True), ("checker_other", False), ("agent", True), ("agent_other", False),
                       ("tg_supervisor", True), ("ne_supervisor", False), ("secretariat", True)):
        html = _client(pages, role).get(reverse("guarantees:claims")).content.decode()
        assert (claim.number in html) is sees, role
        html = _client(pages, role).get(reverse("guarantees:enquiries")).content.decode()
        assert (pages["transit"].declaration_ref in html) is sees, role
    html = _client(pages, "checker").get(reverse("guarantees:claims")).content.decode()
    assert 'data-testid="claims-to-answer"' in html
    # The approval waits in the supervisor's list, not the proposer's.
    assert 'data-testid="releases-to-approve"' in _client(pages, "tg_supervisor").get(
        reverse("guarantees:enquiries")).content.decode()
    assert 'data-testid="releases-to-approve"' not in _client(pages, "tg_officer").get(
        reverse("guarantees:enquiries")).content.decode()


def test_the_document_is_served_as_uploaded(pages):
    response = _client(pages, "checker").get(reverse("guarantees:enquiry_document", args=[pages["document"].pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "certificat.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_the_transit_page_shows_the_case_panel(pages):
    html = _client(pages, "tg_supervisor").get(
        reverse("guarantees:transit_detail", args=[pages["claimed"].declaration_ref])).content.decode()
    assert 'data-testid="case-panel"' in html and pages["claim"].number in html
    html = _client(pages, "bf_officer").get(
        reverse("guarantees:transit_detail", args=[pages["transit"].declaration_ref])).content.decode()
    assert reverse("guarantees:enquiry_detail", args=[pages["enquiry"].pk]) in html
    assert 'data-testid="open-enquiry"' in html


def test_answer_form_uploads_files(pages, world):
    transit = world.declare("TG-LOME-2026-T-000003")
    from guarantees.services.enquiries import enquiry_open

    enquiry = enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x")
    client = _client(pages, "agent")
    url = reverse("guarantees:enquiry_answer", args=[enquiry.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(url, {"kind": "proof", "text": "x",
                            "files": [SimpleUploadedFile("virus.pdf", b"MZ" + b"\0" * 10)]})
    assert bad.status_code == 200 and "virus.pdf" in bad.content.decode()
    response = client.post(url, {
        "kind": "proof", "text": "Certificat de sortie et bon à enlever.",
        "files": [SimpleUploadedFile("sortie.pdf", PDF), SimpleUploadedFile("bae.png", b"\x89PNG\r\n\x1a\n0000")],
    })
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.status == "answered"
    assert sorted(enquiry.answers.get().documents.values_list("original_name", flat=True)) == ["bae.png", "sortie.pdf"]


def test_claim_form_refuses_above_held_then_issues_and_the_bank_pays_in_part(pages, world):
    transit, _ = world.noticed("TG-LOME-2026-T-000004", amount=3_000_000)
    supervisor = _client(pages, "bf_supervisor")
    url = reverse("guarantees:claim_issue", args=[transit.pk])
    page = supervisor.get(url).content.decode()
    assert 'value="3000000"' in page
    refused = supervisor.post(url, {"amount": "3 000 001", "grounds": "Non apuré."})
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    response = supervisor.post(url, {"amount": "2 500 000", "grounds": "Non apuré."})
    claim = Claim.objects.get(transit=transit)
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:claim_detail", args=[claim.pk])

    checker = _client(pages, "checker")
    detail = checker.get(response["Location"]).content.decode()
    assert 'data-testid="pay-link"' in detail and 'data-testid="reject-link"' in detail
    paid = checker.post(reverse("guarantees:claim_pay", args=[claim.pk]), {
        "amount": "1 000 000", "payment_reference": "VIR-2026-001", "payment_date": timezone.localdate().isoformat()})
    assert paid.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.paid_in_part
    transit.refresh_from_db()
    assert transit.status == TransitStatus.SETTLED
    assert ledger_verify() == []
    html = _client(pages, "agent").get(reverse("guarantees:claim_detail", args=[claim.pk])).content.decode()
    assert "VIR-2026-001" in html and 'data-testid="paid-in-part"' in html


def test_release_flow_through_the_pages(pages, world):
    release = pages["release"]
    response = _client(pages, "tg_supervisor").post(reverse("guarantees:release_approve", args=[release.pk]),
                                                   {"comment": "Certificat authentique."})
    assert response.status_code == 302
    release.refresh_from_db()
    pages["transit"].refresh_from_db()
    assert release.status == "approved" and pages["transit"].status == TransitStatus.DISCHARGED
    assert balances(world.g)[1:3] == (500_000, 4_000_000)  # only the claimed transit is left
    assert ledger_verify() == []


def test_the_proposer_sees_the_refusal_on_the_form(pages, world):
    """A supervisor who proposed cannot approve their own proposal: the page says so and nothing moves."""
    transit = world.declare("TG-LOME-2026-T-000005")
    release = release_propose(transit=transit, by=world.tg_supervisor, ground="paper_discharge", reason="x")
    response = _client(pages, "tg_supervisor").post(reverse("guarantees:release_approve", args=[release.pk]), {})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    release.refresh_from_db()
    assert release.status == "proposed"


def test_claim_letter_and_rejection_notice_are_pdf(pages, world):
    client = _client(pages, "checker")
    for name in ("claim_letter", "claim_rejection_notice"):
        response = client.get(reverse(f"guarantees:{name}", args=[pages["claim"].pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    # A claim that was not rejected has a letter but no rejection notice.
    transit, _ = world.noticed("TG-LOME-2026-T-000006")
    issued = claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    assert client.get(reverse("guarantees:claim_letter", args=[issued.pk])).status_code == 200
    assert client.get(reverse("guarantees:claim_rejection_notice", args=[issued.pk])).status_code == 404


def test_claim_letter_is_signed_when_the_registry_key_exists(pages, settings, tmp_path):
    from guarantees.documents.devcert import devcert_create
    from guarantees.documents.signing import pdf_verify
    from guarantees.documents.renderer import LETTER, claim_document_render

    key = devcert_create(pkcs12_path=tmp_path / "k.p12", root_path=tmp_path / "root.pem", passphrase="pw")
    settings.CERTIFICATE_PKCS12_PATH = str(key.pkcs12_path)
    settings.CERTIFICATE_PKCS12_PASSPHRASE = "pw"
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(key.root_path)
    settings.CERTIFICATE_TSA_URL = None
    filename, mimetype, content = claim_document_render(claim=pages["claim"], kind=LETTER, language="fr")
    assert filename == f"claim-{pages['claim'].number}.pdf" and mimetype == "application/pdf"
    check = pdf_verify(content)
    assert check.signed and check.ok, check


def test_without_a_key_the_letter_is_rendered_unsigned(pages, settings, tmp_path):
    from guarantees.documents.renderer import REJECTION, claim_document_render

    settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "missing.p12")
    _name, _type, content = claim_document_render(claim=pages["claim"], kind=REJECTION, language="en")
    assert content.startswith(b"%PDF") and b"/ByteRange" not in content


def test_admin_pages_open_and_only_holidays_are_editable(pages):
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts.models import User
    from guarantees.models import CaseEvent, EnquiryDocument, PublicHoliday

    root = User.objects.create_superuser(email="root@secretariat.aes", password="x" * 12)
    give_totp(root)
    client = Client()
    sign_in_as(client, root)
    PublicHoliday.objects.create(country_id="BF", date=timezone.localdate(), name="Fête")
    request = RequestFactory().get("/")
    request.user = root
    for model in (PublicHoliday, Enquiry, EnquiryDocument, ManualRelease, Claim, CaseEvent):
        meta = model._meta
        assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code == 200
        obj = model.objects.first()
        assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])).status_code == 200
        editable = admin.site._registry[model].has_change_permission(request, obj)
        assert editable is (model is PublicHoliday), model
