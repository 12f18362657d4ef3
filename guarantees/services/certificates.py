"""Certificates: issue the signed PDF of a version (once per language), say where a version stands, and check
an uploaded file against the register.

Issuing is idempotent: the PDF is rendered and signed outside any transaction, then stored under a lock on the
version row; a second run (a task delivered twice, a download racing the task) finds the stored one and keeps
it. What is stored is never changed. The printed content is a snapshot (``content``) fingerprinted with a
SHA-256 cut to 16 hex digits: the same for every language of a version, printed on the page, shown on the
public verification page so a paper copy can be compared.

The public verification reads the register only through ``version_standing`` and ``certificate_check_upload``:
status, GRN, principal, bank, amount and validity of a version, never a balance or a transit.
"""

from __future__ import annotations

import datetime
import hashlib
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guarantees.documents.renderer import certificate_render, content_fingerprint  # noqa: F401 (tests patch them here)
from guarantees.documents.signing import SignatureCheck, pdf_verify, signing_key
from guarantees.counters import counter_get, counter_incr
from guarantees.models import Certificate, Country, Guarantee, GuaranteeStatus, GuaranteeVersion

COVERED_COUNTRIES_FALLBACK = ("BF", "ML", "NE", "TG")


# --- Content -------------------------------------------------------------------------------------


def _country(country: Country) -> dict:
    return {"code": country.code, "name_fr": country.name_fr, "name_en": country.name_en}


def _local_date(moment: datetime.datetime, zone_name: str) -> datetime.date:
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.UTC
    return timezone.localtime(moment, zone).date()


def certificate_content(*, version: GuaranteeVersion) -> dict:
    """What a certificate of ``version`` prints, as plain JSON values (stored with it, fingerprinted)."""
    g = Guarantee.objects.select_related("principal", "bank__organisation", "country").get(pk=version.guarantee_id)
    principal, bank = g.principal, g.bank
    covered = list(Country.objects.filter(is_covered=True).order_by("code"))
    if not covered:
        covered = list(Country.objects.filter(code__in=COVERED_COUNTRIES_FALLBACK).order_by("code"))
    return {
        "grn": g.grn,
        "version": version.number,
        "issued_on": _local_date(version.created_at, g.country.timezone).isoformat(),
        "amount": version.amount,
        "currency": g.currency,
        "valid_from": version.valid_from.isoformat(),
        "valid_until": version.valid_until.isoformat(),
        "principal": {
            "name": principal.name,
            "tin": principal.tin,
            "trade_register": principal.trade_register,
            "approval_number": principal.approval_number,
            "address": principal.address,
        },
        "bank": {
            "name": bank.organisation.name,
            "address": bank.organisation.address,
            "approval_reference": bank.approval_reference,
        },
        "country_of_issue": _country(g.country),
        "countries": [_country(c) for c in covered],
    }


# --- Issuing -------------------------------------------------------------------------------------


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def certificate_issue(*, version: GuaranteeVersion, language: str = "fr") -> Certificate:
    """The certificate of ``version`` in ``language``: the stored one, or a new one rendered, signed, stored."""
    if language not in _languages():
        raise ValueError(f"Unknown certificate language {language!r}.")
    existing = Certificate.objects.filter(version=version, language=language).first()
    if existing is not None:
        return existing
    # Every language of a version prints the same snapshot: the first one rendered sets it.
    sibling = Certificate.objects.filter(version=version).order_by("pk").only("content").first()
    content = sibling.content if sibling is not None else certificate_content(version=version)
    filename, _mimetype, signed, fingerprint = certificate_render(content=content, language=language,
                                                                  status_index=version.pk)
    with transaction.atomic():
        GuaranteeVersion.objects.select_for_update().filter(pk=version.pk).first()
        existing = Certificate.objects.filter(version=version, language=language).first()
        if existing is not None:
            return existing
        certificate = Certificate.objects.create(
            guarantee_id=version.guarantee_id, version=version, number=version.number, language=language,
            filename=filename, content=content, fingerprint=fingerprint,
            sha256=hashlib.sha256(signed).hexdigest(), size=len(signed), pdf=signed,
            signer=signing_key().subject, timestamped=bool(getattr(settings, "CERTIFICATE_TSA_URL", None)),
        )
    return certificate


def certificates_issue_for_version(*, guarantee_id: int, number: int) -> list[Certificate]:
    """Every configured language of one version (the task after activation or amendment). Nothing to do when
    the version is gone or its certificates exist."""
    version = GuaranteeVersion.objects.filter(guarantee_id=guarantee_id, number=number).first()
    if version is None:
        return []
    languages = [lang for lang in settings.CERTIFICATE_LANGUAGES if lang in _languages()] or ["fr"]
    return [certificate_issue(version=version, language=lang) for lang in languages]


def certificate_pdf(*, certificate: Certificate) -> bytes:
    """The stored bytes (deferred on every other read)."""
    return bytes(Certificate.objects.with_pdf().values_list("pdf", flat=True).get(pk=certificate.pk))


# --- Where a version stands ----------------------------------------------------------------------


class Standing(models.TextChoices):
    VALID = "valid", pgettext_lazy("certificate standing", "Valid")
    NOT_YET_VALID = "not_yet_valid", pgettext_lazy("certificate standing", "Not yet in force")
    SUSPENDED = "suspended", pgettext_lazy("certificate standing", "Suspended")
    EXPIRED = "expired", pgettext_lazy("certificate standing", "Expired")
    SUPERSEDED = "superseded", pgettext_lazy("certificate standing", "Superseded")
    CANCELLED = "cancelled", pgettext_lazy("certificate standing", "Cancelled")
    CLOSED = "closed", pgettext_lazy("certificate standing", "Closed")


@dataclass(frozen=True)
class VersionStanding:
    guarantee: Guarantee
    version: GuaranteeVersion
    current: GuaranteeVersion
    standing: str
    today: datetime.date

    @property
    def is_current(self) -> bool:
        return self.version.number == self.current.number

    @property
    def is_valid(self) -> bool:
        return self.standing == Standing.VALID

    @property
    def label(self) -> str:
        return str(Standing(self.standing).label)


def version_standing(*, guarantee: Guarantee, number: int | None = None,
                     today: datetime.date | None = None) -> VersionStanding | None:
    """Where version ``number`` (default: the current one) of ``guarantee`` stands today, in the country of
    issue's calendar. ``None`` when there is no such version. The end of the guarantee (closed, cancelled)
    outranks a newer version, which outranks suspension and expiry."""
    versions = {v.number: v for v in guarantee.versions.all()}
    if not versions:
        return None
    current = versions.get(guarantee.version) or versions[max(versions)]
    version = versions.get(number if number is not None else current.number)
    if version is None:
        return None
    today = today or _local_date(timezone.now(), guarantee.country.timezone)
    standing = standing_of(status=guarantee.status, is_current=version.number == current.number,
                           valid_from=version.valid_from, valid_until=version.valid_until, today=today)
    return VersionStanding(guarantee=guarantee, version=version, current=current, standing=standing, today=today)


def standing_of(*, status: str, is_current: bool, valid_from: datetime.date, valid_until: datetime.date,
                today: datetime.date) -> str:
    """The one rule of where a version stands (the public page and the status list both ask it). The end of the
    guarantee (closed, cancelled) outranks a newer version, which outranks suspension and expiry."""
    S = GuaranteeStatus
    if status == S.CLOSED:
        return Standing.CLOSED
    if status == S.CANCELLED:
        return Standing.CANCELLED
    if not is_current:
        return Standing.SUPERSEDED
    if status == S.SUSPENDED:
        return Standing.SUSPENDED
    if status == S.EXPIRED or valid_until < today:
        return Standing.EXPIRED
    if valid_from > today:
        return Standing.NOT_YET_VALID
    if status == S.ACTIVE:
        return Standing.VALID
    return Standing.CANCELLED  # a status the public never sees for a guarantee with a GRN


# --- An uploaded file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadCheck:
    """What an uploaded PDF is. ``authentic``: signed by the registry, unchanged, and byte for byte a
    certificate of the register."""

    signature: SignatureCheck
    certificate: Certificate | None
    standing: VersionStanding | None
    # The guarantee whose page the file was uploaded on (None: the page without a number).
    expected_guarantee_id: int | None = None

    @property
    def in_register(self) -> bool:
        return self.certificate is not None

    @property
    def wrong_guarantee(self) -> bool:
        """A certificate of the register, but of another guarantee than the page's: refused there."""
        return (self.certificate is not None and self.expected_guarantee_id is not None
                and self.certificate.guarantee_id != self.expected_guarantee_id)

    @property
    def authentic(self) -> bool:
        return self.signature.ok and self.certificate is not None and not self.wrong_guarantee

    def results(self) -> list[tuple[str, bool]]:
        """Each check in words with whether it passed (the page says "passed"/"failed", not only a colour)."""
        from django.utils.translation import gettext

        return [
            (gettext("The signature checks out"), bool(self.signature.valid)),
            (gettext("The signed content is unchanged"), bool(self.signature.intact)),
            (gettext("The signature covers the whole file (nothing added after signing)"),
             bool(self.signature.whole_file)),
            (gettext("Signed with the registry's certificate"), bool(self.signature.trusted)),
            (gettext("Identical to the copy kept in the register"), self.in_register),
            *([(gettext("A certificate of this guarantee"), not self.wrong_guarantee)]
              if self.expected_guarantee_id is not None else []),
        ]

    def failed_results(self) -> list[str]:
        return [label for label, ok in self.results() if not ok]

    @property
    def claimed_grn(self) -> str:
        return self.signature.metadata.get("grn", "")

    @property
    def claimed_version(self) -> str:
        return self.signature.metadata.get("version", "")


def certificate_check_upload(*, data: bytes, guarantee: Guarantee | None = None) -> UploadCheck:
    """Check ``data``: the signature (pyHanko, against the configured roots) and the SHA-256 of the whole
    file against the register. Any changed byte fails one or the other. Given ``guarantee`` (the page it was
    uploaded on), a certificate of another guarantee is not authentic there; the answer names which one it is."""
    expected_id = guarantee.pk if guarantee is not None else None
    signature = pdf_verify(data)
    digest = hashlib.sha256(data).hexdigest()
    certificate = Certificate.objects.select_related("version").filter(sha256=digest).first()
    standing = None
    if certificate is not None:
        guarantee = Guarantee.objects.select_related("principal", "bank__organisation", "country").get(
            pk=certificate.guarantee_id
        )
        standing = version_standing(guarantee=guarantee, number=certificate.number)
    return UploadCheck(signature=signature, certificate=certificate, standing=standing,
                       expected_guarantee_id=expected_id)


# --- Rate limit of the public page ---------------------------------------------------------------
# Two counters per client. Look-ups: every request, CERTIFICATE_VERIFY_RATE_LIMIT per window. Misses: a
# well-formed number (right check digits) that is not in the register, CERTIFICATE_VERIFY_MISS_LIMIT per longer
# window; past it the client gets nothing at all until the window ends. Somebody with a real number rarely
# misses (a typo is caught by the check digits and not counted); somebody walking numbers does nothing else.


def _verify_key(kind: str, client: str, window: int) -> str:
    return f"certificates:verify:{kind}:{client}:{int(timezone.now().timestamp() // window)}"


def _miss_window() -> int:
    return max(1, settings.CERTIFICATE_VERIFY_MISS_WINDOW_SECONDS)


def verification_allowed(*, client: str) -> bool:
    """Count one look-up for ``client``; False once it passed the look-ups' limit in the window, or the misses'
    limit in theirs."""
    misses = counter_get(_verify_key("misses", client, _miss_window())).count
    if misses >= settings.CERTIFICATE_VERIFY_MISS_LIMIT:
        return False
    window = max(1, settings.CERTIFICATE_VERIFY_RATE_WINDOW_SECONDS)
    return counter_incr(_verify_key("lookups", client, window), timeout=window + 5) \
        <= settings.CERTIFICATE_VERIFY_RATE_LIMIT


def verification_missed(*, client: str) -> None:
    """Count a well-formed number that is not in the register against ``client``."""
    window = _miss_window()
    counter_incr(_verify_key("misses", client, window), timeout=window + 5)
