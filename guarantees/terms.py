"""What a checker is shown and decides on: the terms of one preparation by the bank's maker.

Four eyes are worth nothing if the second pair looks at something else than what gets signed. Every
preparation of a guarantee request or of an amendment is numbered (``preparation``, bumped by each new
preparation). The checker's page carries that number and the terms it showed — amount, validity, who prepared
and when — and the service compares them with the row under its lock: a confirmation, a decline or a return
to the maker applies only to the preparation the page showed, whatever the maker did between the page and
the click. Otherwise ``TermsChanged`` (nothing changed), whose message names the terms as they stand now.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass

from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from guarantees.errors import TermsChanged

_MAX_ENCODED = 400
_FIELDS = ("preparation", "amount", "valid_from", "valid_until", "prepared_by", "prepared_at")


@dataclass(frozen=True)
class PreparedTerms:
    """One preparation as a page showed it. ``prepared_by`` is the maker's user id (``None`` while nothing is
    prepared); ``prepared_at`` is aware."""

    preparation: int
    amount: int
    valid_from: datetime.date
    valid_until: datetime.date
    prepared_by: int | None
    prepared_at: datetime.datetime | None

    def encode(self) -> str:
        """The text a page carries in its hidden field (JSON, dates in ISO 8601, the time in UTC)."""
        return json.dumps({
            "preparation": self.preparation,
            "amount": self.amount,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "prepared_by": self.prepared_by,
            "prepared_at": (
                self.prepared_at.astimezone(datetime.timezone.utc).isoformat() if self.prepared_at else None
            ),
        }, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> PreparedTerms:
        """The terms a page sent back; ``ValueError`` for anything that is not exactly what ``encode`` gives."""
        if not isinstance(text, str) or len(text) > _MAX_ENCODED:
            raise ValueError("terms too long")
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != set(_FIELDS):
            raise ValueError("unexpected keys")
        preparation, amount, by = data["preparation"], data["amount"], data["prepared_by"]
        for number in (preparation, amount):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise ValueError("not a whole number")
        if by is not None and (isinstance(by, bool) or not isinstance(by, int)):
            raise ValueError("not a user id")
        at = data["prepared_at"]
        prepared_at = datetime.datetime.fromisoformat(at) if isinstance(at, str) else None
        if at is not None and (prepared_at is None or prepared_at.tzinfo is None):
            raise ValueError("not an aware time")
        if not isinstance(data["valid_from"], str) or not isinstance(data["valid_until"], str):
            raise ValueError("not a date")
        return cls(
            preparation=preparation, amount=amount,
            valid_from=datetime.date.fromisoformat(data["valid_from"]),
            valid_until=datetime.date.fromisoformat(data["valid_until"]),
            prepared_by=by, prepared_at=prepared_at,
        )


def guarantee_terms(guarantee) -> PreparedTerms:
    """The terms of a guarantee request as its row holds them."""
    return PreparedTerms(
        preparation=guarantee.preparation, amount=guarantee.requested_amount, valid_from=guarantee.valid_from,
        valid_until=guarantee.valid_until, prepared_by=guarantee.prepared_by_id, prepared_at=guarantee.prepared_at,
    )


def amendment_terms(amendment, guarantee=None) -> PreparedTerms:
    """The terms of an amendment as its row holds them (``guarantee``: its guarantee, if already at hand)."""
    guarantee = guarantee or amendment.guarantee
    return PreparedTerms(
        preparation=amendment.preparation, amount=amendment.new_amount, valid_from=guarantee.valid_from,
        valid_until=amendment.new_valid_until, prepared_by=amendment.prepared_by_id,
        prepared_at=amendment.prepared_at,
    )


def terms_check(*, shown: PreparedTerms, current: PreparedTerms, maker=None, country=None) -> None:
    """Refuse (``TermsChanged``) unless ``current`` is exactly what the page ``shown``. ``maker`` is the user
    who prepared ``current`` and ``country`` the guarantee's, to word the refusal."""
    if shown == current:
        return
    facts = {**asdict(current), "prepared_at": current.prepared_at.isoformat() if current.prepared_at else None,
             "valid_from": current.valid_from.isoformat(), "valid_until": current.valid_until.isoformat(),
             "prepared_by": str(maker) if maker is not None else None}
    raise TermsChanged(_describe(current, maker, country), terms=facts)


_CHANGED = _(
    "The maker changed the terms after you opened this page: they are now %(amount)s, valid from %(valid_from)s "
    "to %(valid_until)s, prepared by %(maker)s on %(prepared_at)s. Nothing was done: read the new terms and "
    "decide again."
)
_CLEARED = _(
    "The request changed after you opened this page: it was sent back to the maker or withdrawn, and nothing "
    "is prepared now. Nothing was done."
)


def _describe(current: PreparedTerms, maker, country):
    """The refusal's sentence, worded when it is read (the language of the page or of the API caller)."""
    from guarantees.formats import format_fcfa, format_in_zone

    def text() -> str:
        if current.prepared_by is None or maker is None:
            return str(_CLEARED)
        return str(_CHANGED) % {
            "amount": format_fcfa(current.amount),
            "valid_from": formats.date_format(current.valid_from, "SHORT_DATE_FORMAT"),
            "valid_until": formats.date_format(current.valid_until, "SHORT_DATE_FORMAT"),
            "maker": str(maker),
            "prepared_at": format_in_zone(current.prepared_at, country),
        }

    return lazy(text, str)()
