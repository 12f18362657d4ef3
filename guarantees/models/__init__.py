from .banks import Bank, BankCeilingChange
from .guarantees import (
    COMMITTED_STATUSES,
    WINDING_DOWN_STATUSES,
    AccessCode,
    Amendment,
    AmendmentStatus,
    Guarantee,
    GuaranteeAction,
    GuaranteeEvent,
    GuaranteeStatus,
    GuaranteeVersion,
)
from .ledger import EntryKind, Hold, HoldStatus, LedgerEntry
from .reference import Corridor, CorridorStop, Country, Levy, LevyKind, Office, OfficeRole, TariffLine

__all__ = [
    "COMMITTED_STATUSES",
    "WINDING_DOWN_STATUSES",
    "AccessCode",
    "Amendment",
    "AmendmentStatus",
    "Bank",
    "BankCeilingChange",
    "Corridor",
    "CorridorStop",
    "Country",
    "EntryKind",
    "Guarantee",
    "GuaranteeAction",
    "GuaranteeEvent",
    "GuaranteeStatus",
    "GuaranteeVersion",
    "Hold",
    "HoldStatus",
    "LedgerEntry",
    "Levy",
    "LevyKind",
    "Office",
    "OfficeRole",
    "TariffLine",
]
