"""Guarantee reference numbers: ``26BF482913570264-63``.

Year (2 digits), country of issue (2 letters), a 12-digit serial, then two check digits computed with
ISO 7064 MOD 97-10 (as in IBANs) over the rest, letters converted to numbers (A=10 … Z=35). A typing error
in any one character, or two swapped neighbours, is caught.

The serial is drawn at random (``secrets``, uniformly from 10^12), never derived from a database key: the
public verification page shows a guarantee to whoever has its number, so the number itself must not be
guessable. With a few thousand guarantees of one country and year, a guessed number is one in ~10^8. The draw
is not unique by itself: ``guarantees.services.guarantees`` retries on the (rare) collision against the
column's unique constraint.
"""

import re
import secrets

GRN_RE = re.compile(r"^(?P<year>\d{2})(?P<country>[A-Z]{2})(?P<serial>\d{12})-(?P<check>\d{2})$")
SERIAL_SPACE = 10 ** 12


def _to_digits(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def check_digits(body: str) -> str:
    """ISO 7064 MOD 97-10 check digits for ``body`` (letters and digits)."""
    remainder = int(_to_digits(body.upper()) + "00") % 97
    return f"{98 - remainder:02d}"


def grn_format(*, year: int, country: str, serial: int) -> str:
    body = f"{year % 100:02d}{country.upper()}{serial:012d}"
    return f"{body}-{check_digits(body)}"


def serial_draw() -> int:
    """A serial from the operating system's CSPRNG, uniform over the 12 digits (tests replace it to force a
    collision)."""
    return secrets.randbelow(SERIAL_SPACE)


def grn_new(*, year: int, country: str) -> str:
    """A fresh random GRN for ``country`` in ``year`` (not yet checked for uniqueness)."""
    return grn_format(year=year, country=country, serial=serial_draw())


def grn_normalise(value: str) -> str:
    return re.sub(r"[\s.]", "", (value or "")).upper()


def grn_is_valid(value: str) -> bool:
    match = GRN_RE.match(grn_normalise(value))
    if not match:
        return False
    body = grn_normalise(value)[:-3]
    return int(_to_digits(body) + match["check"]) % 97 == 1
