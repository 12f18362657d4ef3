"""How the registry writes amounts: ``12 500 000 FCFA``, the same in pages, PDFs, e-mails and messages.

Groups of three digits are separated by U+202F NARROW NO-BREAK SPACE (the French typographic thousands
separator) and the unit by U+00A0 NO-BREAK SPACE, so an amount never breaks across lines; the same characters in
both languages. XOF has no minor unit: whole francs only.
"""

from decimal import Decimal, InvalidOperation

THOUSANDS_SEPARATOR = "\u202f"
UNIT_SEPARATOR = "\u00a0"
EMPTY = "—"


def format_fcfa(value) -> str:
    """``12500000`` → ``"12 500 000 FCFA"``; ``None`` → ``"—"``."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = int(Decimal(str(value)).to_integral_value())
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    digits = f"{abs(amount):,}".replace(",", THOUSANDS_SEPARATOR)
    sign = "-" if amount < 0 else ""
    return f"{sign}{digits}{UNIT_SEPARATOR}FCFA"
