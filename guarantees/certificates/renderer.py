"""The attestation de caution unique as an A4 PDF, rendered by WeasyPrint from
``templates/guarantees/certificate/attestation.html``.

The renderer reads nothing from the database: it prints a *content* snapshot (the fields built by
``guarantees.services.certificates.certificate_content``), so what is printed is exactly what is stored and
fingerprinted. It returns ``(filename, mimetype, bytes)`` and runs inside ``translation.override(language)``:
French by default, English on request. The PDF it returns is not signed yet (see ``signing``).

WeasyPrint reads nothing but the project's static files and ``data:`` URIs (the QR code): see ``fetcher``.

Speed (WeasyPrint is the bulk of a certificate's time): only the locally installed DejaVu fonts (no
@font-face to fetch or parse), a QR code as a tiny PNG rather than an SVG path, tables with fixed layout (no
preferred-width pass), no SVG, and no ``counter(pages)`` (it makes WeasyPrint lay the document out twice).
"""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import threading

from django.template.loader import render_to_string
from django.utils import translation

from guarantees.certificates.fetcher import html_document, static_base_url, static_url_fetcher
from guarantees.certificates.signing import keywords_format
from guarantees.certificates.words import amount_in_words

# WeasyPrint logs every rendering step at INFO; one line per step per certificate drowns the worker's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MIMETYPE = "application/pdf"
STYLESHEET = "guarantees/certificate/attestation.css"


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


class CertificateRenderer:
    """One certificate: ``CertificateRenderer(content=..., fingerprint=..., verify_url=...).render(language)``."""

    template_name = "guarantees/certificate/attestation.html"

    def __init__(self, *, content: dict, fingerprint: str, verify_url: str, signer: str = ""):
        self.content = content
        self.fingerprint = fingerprint
        self.verify_url = verify_url
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
            "qr": qr_png(self.verify_url),
            "keywords": keywords_format(
                grn=c["grn"], version=c["version"], language=language, fingerprint=self.fingerprint
            ),
        }

    def render(self, language: str = "fr") -> tuple[str, str, bytes]:
        with translation.override(language):
            context = self.context(language)
            document = None
            for compact in (False, True):
                html = render_to_string(self.template_name, {**context, "compact": compact})
                document = html_document(html).render(
                    stylesheets=[_stylesheet()], font_config=_font_config()
                )
                if len(document.pages) == 1:
                    break
            pdf = document.write_pdf()
        return self.filename(language), MIMETYPE, pdf
