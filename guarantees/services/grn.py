"""Giving an activated guarantee its reference number (GRN): a random serial, unique in the register.

The serial is random so that numbers cannot be walked (``guarantees.grn``); being random, two guarantees may
draw the same one. The ``grn`` column is unique, so the number is first written alone, inside a savepoint: a
collision (already in the register, or taken at this moment by a concurrent activation, which PostgreSQL makes
us wait for) fails only that savepoint, and another serial is drawn. The caller's transaction and row lock stay
intact.
"""

from django.db import IntegrityError, transaction

from guarantees.grn import grn_new
from guarantees.models import Guarantee

# One collision is about (guarantees of that country and year) / 10^12: twelve in a row means the random source
# is broken, and the activation must fail rather than loop.
GRN_ATTEMPTS = 12


class GrnExhausted(RuntimeError):
    """No free number after ``GRN_ATTEMPTS`` draws: the random source is not random."""


def guarantee_number_assign(*, guarantee: Guarantee, year: int) -> str:
    """Store a fresh unique GRN on ``guarantee`` (a row the caller has locked, in its transaction) and return it."""
    for _attempt in range(GRN_ATTEMPTS):
        candidate = grn_new(year=year, country=guarantee.country_id)
        try:
            with transaction.atomic():
                Guarantee.objects.filter(pk=guarantee.pk).update(grn=candidate)
        except IntegrityError:
            continue
        guarantee.grn = candidate
        return candidate
    raise GrnExhausted(f"no free reference number after {GRN_ATTEMPTS} draws")
