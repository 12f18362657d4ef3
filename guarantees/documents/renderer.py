"""Every PDF of the registry, through one renderer: the attestation de caution unique, the claim letter and the
rejection notice (and, as they come, statements).

``PdfRenderer`` is the one pipeline: a template rendered inside ``translation.override(language)``, laid out by
WeasyPrint with the project's stylesheet and fonts, returned as ``(filename, mimetype, bytes)`` — unsigned; the
caller signs it (``signing.pdf_sign``) or asks ``render_signed``. Each document is a small subclass naming its
template and filename and building its context.

The attestation reads nothing from the database: it prints a *content* snapshot (the fields built by
``guarantees.services.certificates.certificate_content``), so what is printed is exactly what is stored and
fingerprinted. French by default, English on request.

WeasyPrint reads nothing but the project's static files and ``data:`` URIs (the QR code): see ``fetcher``.

Speed (WeasyPrint is the bulk of a certificate's time): only the locally installed DejaVu fonts (no
@font-face to fetch or parse), a QR code as a tiny PNG rather than an SVG path, tables with fixed layout (no
preferred-width pass), no SVG, and no ``counter(pages)`` (it makes WeasyPrint lay the document out twice). The
monthly statement, issued once a month rather than on every activation, draws the report pages' SVG charts
(``guarantees.charts``) from its stored figures.
"""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import threading

from django.template.loader import render_to_string
from django.utils import translation

from guarantees import metrics
from guarantees.documents.fetcher import html_document, static_base_url, static_url_fetcher
from guarantees.documents.signing import keywords_format
from guarantees.documents.words import amount_in_words

# WeasyPrint logs every rendering step at INFO; one line per step per certificate drowns the worker's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MIMETYPE = "application/pdf"
STYLESHEET = "guarantees/certificate/attestation.css"
logger = logging.getLogger(__name__)


def qr_png(url: str) -> str:
    """A QR code of ``url`` as a PNG data URI, one pixel per module: the page scales it up with
    ``image-rendering: pixelated`` (no smoothing in the PDF), so it prints sharp. An SVG QR code looks the same
    but costs WeasyPrint ~100 ms to parse and draw its path; this costs ~2 ms."""
    import io

    import qrcode

    # A fixed mask pattern: choosing the "best" of eight is most of qrcode's time, and any mask scans.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1, mask_pattern=2)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _date(value: str | datetime.date) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


@functools.lru_cache(maxsize=1)
def _stylesheet():
    """The certificate's CSS, parsed once per process (parsing it costs as much as laying out the page)."""
    from django.template.loader import get_template
    from weasyprint import CSS

    return CSS(string=get_template(STYLESHEET).template.source, base_url=static_base_url(),
               url_fetcher=static_url_fetcher())


_local = threading.local()


def _font_config():
    """One WeasyPrint font configuration per thread, reused: building one costs ~7 ms a document, and the
    certificate uses only system fonts (no @font-face that would accumulate in it)."""
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


class PdfRenderer:
    """One document: ``template_name``, ``filename(language)`` and ``context(language)``. ``stylesheet``: a CSS
    template parsed once per process (the attestation's); ``fit_one_page``: lay out again in a compact form when the
    document would spill onto a second page."""

    template_name: str = ""
    stylesheet: str | None = None
    fit_one_page = False

    def filename(self, language: str) -> str:
        raise NotImplementedError

    def context(self, language: str) -> dict:
        raise NotImplementedError

    def render(self, language: str = "fr") -> tuple[str, str, bytes]:
        with translation.override(language):
            context = self.context(language)
            stylesheets = [_stylesheet()] if self.stylesheet else []
            document = None
            for compact in ((False, True) if self.fit_one_page else (False,)):
                html = render_to_string(self.template_name, {**context, "compact": compact})
                document = html_document(html).render(stylesheets=stylesheets, font_config=_font_config())
                if len(document.pages) == 1:
                    break
            pdf = document.write_pdf()
        return self.filename(language), MIMETYPE, pdf

    def render_signed(self, language: str, *, reason: str) -> tuple[str, str, bytes]:
        """Rendered and signed by the registry; unsigned (with a warning in the log) when no signing key is
        configured, so that a missing development key never blocks a letter."""
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from guarantees.documents.signing import pdf_sign

        filename, mimetype, pdf = self.render(language)
        try:
            pdf = pdf_sign(pdf, reason=reason, location=getattr(settings, "CERTIFICATE_SIGNING_LOCATION", ""))
        except ImproperlyConfigured as exc:
            logger.warning("%s not signed: %s", filename, exc)
        return filename, mimetype, pdf


class CertificateRenderer(PdfRenderer):
    """One certificate: ``CertificateRenderer(content=..., fingerprint=..., verify_url=...).render(language)``."""

    template_name = "guarantees/certificate/attestation.html"
    stylesheet = STYLESHEET
    fit_one_page = True

    def __init__(self, *, content: dict, fingerprint: str, verify_url: str, signer: str = "", qr_text: str = ""):
        self.content = content
        self.fingerprint = fingerprint
        self.verify_url = verify_url
        self.qr_text = qr_text or verify_url  # the scan URL with the signed payload (``certificate_qr_text``)
        self.signer = signer  # printed: who signs (the signing certificate's common name)

    def filename(self, language: str) -> str:
        return f"caution-unique-{self.content['grn']}-v{self.content['version']}-{language}.pdf"

    def context(self, language: str) -> dict:
        c = self.content
        english = language.startswith("en")

        def name(item: dict) -> str:
            return item["name_en"] if english else item["name_fr"]

        f = self.fingerprint.upper()
        return {
            "c": c,
            "language": language,
            "amount_words": amount_in_words(c["amount"], language),
            "valid_from": _date(c["valid_from"]),
            "valid_until": _date(c["valid_until"]),
            "issued_on": _date(c["issued_on"]),
            "country_of_issue": name(c["country_of_issue"]),
            "countries": ", ".join(name(x) for x in c["countries"]),
            "fingerprint": " ".join(f[i:i + 4] for i in range(0, len(f), 4)),
            "verify_url": self.verify_url,
            "signer": self.signer,
            "qr": qr_png(self.qr_text),
            "keywords": keywords_format(
                grn=c["grn"], version=c["version"], language=language, fingerprint=self.fingerprint
            ),
        }


def content_fingerprint(content: dict) -> str:
    """First 16 hex digits of the SHA-256 of the content's canonical JSON (sorted keys, no spaces, UTF-8)."""
    import hashlib
    import json

    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def certificate_render(*, content: dict, language: str, status_index: int) -> tuple[str, str, bytes, str]:
    """Render and sign an attestation (no database): ``(filename, mimetype, signed bytes, fingerprint)``.
    ``status_index``: the version's place in the status list, carried by the QR code's payload."""
    from django.conf import settings
    from django.utils.translation import gettext

    from guarantees.documents.signing import pdf_sign, signing_key

    fingerprint = content_fingerprint(content)
    renderer = CertificateRenderer(
        content=content, fingerprint=fingerprint,
        verify_url=certificate_verify_url(grn=content["grn"], number=content["version"]),
        signer=signing_key().common_name,
        qr_text=certificate_qr_text(content=content, status_index=status_index),
    )
    with metrics.certificate_render_timed():
        filename, mimetype, pdf = renderer.render(language)
        with translation.override(language):
            reason = gettext("Certificate of guarantee %(grn)s, version %(version)s, issued by the registry") % {
                "grn": content["grn"], "version": content["version"],
            }
        signed = pdf_sign(pdf, reason=reason, location=settings.CERTIFICATE_SIGNING_LOCATION)
    return filename, mimetype, signed, fingerprint


def certificate_qr_text(*, content: dict, status_index: int, signed_at: datetime.datetime | None = None) -> str:
    """What the QR code carries: the offline verifier's address with the signed payload in its fragment
    (``guarantees.documents.offline``), signed now by the registry's offline key."""
    from django.urls import reverse

    from guarantees.documents.offline import payload_claims, payload_encode, scan_url
    from guarantees.documents.offline_keys import offline_signing_key
    from guarantees.links import absolute

    key = offline_signing_key()
    signed_at = signed_at or datetime.datetime.now(datetime.UTC)
    claims = payload_claims(content=content, status_index=status_index, signed_at=signed_at)
    return scan_url(absolute(reverse("guarantees:verify_scan")),
                    payload_encode(claims, private_key=key.private_key, kid=key.kid))


def certificate_verify_url(*, grn: str, number: int) -> str:
    """The public page the QR code leads to, for this version."""
    from django.urls import reverse

    from guarantees.links import absolute

    return f"{absolute(reverse('guarantees:verify', args=[grn]))}?v={number}"


# --- Claim letter and rejection notice --------------------------------------------------------------------

class _ClaimDocument(PdfRenderer):
    filename_pattern = ""

    def __init__(self, *, claim):
        self.claim = claim

    def filename(self, language: str) -> str:
        return self.filename_pattern.format(number=self.claim.number)

    def context(self, language: str) -> dict:
        from django.conf import settings
        from django.utils import timezone

        claim = self.claim
        transit = claim.transit
        return {
            "claim": claim,
            "transit": transit,
            "guarantee": claim.guarantee,
            "bank": claim.guarantee.bank.organisation,
            "principal": claim.guarantee.principal,
            "customs": claim.customs,
            "stops": list(transit.stops.select_related("office", "country").order_by("position")),
            "amount_words": amount_in_words(claim.amount, language),
            "generated_at": timezone.now(),
            "examination_days": settings.REGISTRY_EXAMINATION_WORKING_DAYS,
        }


class ClaimLetterRenderer(_ClaimDocument):
    """The claim letter: customs to the guarantor bank."""

    template_name = "guarantees/claim/letter_pdf.html"
    filename_pattern = "claim-{number}.pdf"


class RejectionNoticeRenderer(_ClaimDocument):
    """The rejection notice: the bank to customs, listing every discrepancy."""

    template_name = "guarantees/claim/rejection_pdf.html"
    filename_pattern = "rejection-{number}.pdf"


LETTER = "letter"
REJECTION = "rejection"


def claim_document_render(*, claim, kind: str, language: str | None = None) -> tuple[str, str, bytes]:
    """The claim's letter or rejection notice, in ``language``, signed by the registry."""
    from django.conf import settings
    from django.utils.translation import gettext

    from guarantees.errors import InvalidTransition

    language = language or settings.LANGUAGE_CODE
    if kind == LETTER:
        renderer = ClaimLetterRenderer(claim=claim)
    elif kind == REJECTION:
        if not claim.discrepancies:
            raise InvalidTransition(gettext("This claim was not rejected."))
        renderer = RejectionNoticeRenderer(claim=claim)
    else:
        raise ValueError(kind)
    with translation.override(language):
        reason = gettext("Claim letter") if kind == LETTER else gettext("Rejection notice")
    return renderer.render_signed(language, reason=reason)


# --- Monthly statement ------------------------------------------------------------------------------------------

class StatementRenderer(PdfRenderer):
    """A guarantee's month: ``StatementRenderer(content=...)`` where ``content`` is the snapshot the statement
    stores (the guarantee's parties and terms, and ``guarantees.selectors.statements.statement_figures``), so that
    what is printed is what is kept. Moments are printed in the zone of the guarantee's country, named once."""

    template_name = "guarantees/statement/statement_pdf.html"

    def __init__(self, *, content: dict):
        self.content = content

    def filename(self, language: str) -> str:
        from django.utils.text import slugify
        from django.utils.translation import pgettext

        c = self.content
        with translation.override(language):
            # Translators: the start of a monthly statement's file name (ASCII, no spaces), e.g. "releve-….pdf".
            name = slugify(pgettext("file name", "statement")) or "statement"
        return f"{name}-{c['grn']}-{c['figures']['month']}.pdf"

    def context(self, language: str) -> dict:
        import zoneinfo

        from guarantees.formats import zone_label
        from guarantees.models import EntryKind
        from guarantees.selectors.statements import statement_weeks

        c = self.content
        figures = c["figures"]
        zone = zoneinfo.ZoneInfo(figures["zone"])
        labels = dict(EntryKind.choices)
        start = datetime.datetime.fromisoformat(figures["start"]).astimezone(zone)
        end = datetime.datetime.fromisoformat(figures["end"]).astimezone(zone)
        movements = [
            {**m, "at": datetime.datetime.fromisoformat(m["at"]).astimezone(zone), "label": labels.get(m["kind"], m["kind"])}
            for m in figures["movements"]
        ]
        totals = [{"kind": kind, "label": labels.get(kind, kind), **values} for kind, values in figures["by_kind"].items()]
        weeks = statement_weeks(figures)
        return {
            "c": c,
            "language": language,
            "figures": figures,
            "opening": figures["opening"],
            "closing": figures["closing"],
            "movements": movements,
            "totals": totals,
            "first_day": start.date(),
            "last_day": (end - datetime.timedelta(days=1)).date(),
            "zone_label": zone_label(zone, start),
            "issued_at": datetime.datetime.fromisoformat(c["issued_at"]).astimezone(zone),
            "keywords": keywords_format(grn=c["grn"], statement=figures["month"], language=language),
            "balance_chart": statement_balance_chart(figures),
            "weeks": weeks,
            "weeks_chart": statement_weeks_chart(weeks),
        }


def statement_balance_chart(figures: dict):
    """The balances at the end of each day of the month, as the report pages draw them (``guarantees.charts``):
    available and held, and claimed when something was."""
    from django.utils.translation import gettext

    from guarantees.charts import Series, has_values, line_chart
    from guarantees.selectors.statements import statement_days

    days = statement_days(figures)
    series = [Series(gettext("Available"), [d["available"] for d in days], "s1"),
              Series(gettext("Held"), [d["held"] for d in days], "s2")]
    claimed = Series(gettext("Claimed, unpaid"), [d["claimed"] for d in days], "s3")
    if has_values([claimed]):
        series.append(claimed)
    return line_chart(title=gettext("Balances at the end of each day"), labels=[f"{d['day']:%d/%m}" for d in days],
                      series=series)


def statement_weeks_chart(weeks: list[dict]):
    """What was held and released each week of the month, as bars; nothing when nothing was."""
    from django.utils.translation import gettext

    from guarantees.charts import Series, bar_chart, has_values

    series = [Series(gettext("Held"), [w["held"] for w in weeks], "s2"),
              Series(gettext("Released"), [w["released"] for w in weeks], "s1")]
    if not has_values(series):
        return None
    return bar_chart(title=gettext("Held and released, week by week"),
                     labels=[f"{w['first']:%d}–{w['last']:%d/%m}" for w in weeks], series=series)


def statement_render(*, content: dict, language: str) -> tuple[str, str, bytes]:
    """Render and sign a monthly statement (no database): ``(filename, mimetype, signed bytes)``. Signed as the
    attestations are (the registry's PAdES signature); refused, not left unsigned, when no key is configured."""
    from django.conf import settings
    from django.utils.translation import gettext

    from guarantees.documents.signing import pdf_sign

    filename, mimetype, pdf = StatementRenderer(content=content).render(language)
    with translation.override(language):
        reason = gettext("Statement of the guarantee %(grn)s for %(month)s, issued by the registry") % {
            "grn": content["grn"], "month": content["figures"]["month"],
        }
    return filename, mimetype, pdf_sign(pdf, reason=reason, location=settings.CERTIFICATE_SIGNING_LOCATION)
