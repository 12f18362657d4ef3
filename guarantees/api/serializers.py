"""What the API accepts (``...In``) and what it answers (``...Out``), kept apart.

Input serializers only parse and bound the input (types, lengths, formats); the business rules live in the
services. Amounts are whole francs CFA: JSON integers only, never a float or a string. Output serializers
read plain dicts or model rows and give the field names of API.md.
"""

import copy
import datetime
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guarantees.models import EventType, GuaranteeStatus, HoldStatus, JobStatus, TransitStatus

MAX_AMOUNT = 10**15  # far above any guarantee; keeps sums inside a BIGINT
DECLARATION_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
OFFICE_CODE_RE = re.compile(r"^[A-Za-z0-9]{2,12}$")
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
# A customs system's clock may run a little ahead of ours; a date further in the future is a mistake.
CLOCK_SKEW = datetime.timedelta(days=1)


# --- Base ------------------------------------------------------------------------------------------------

class Serializer(serializers.Serializer):
    """DRF's serializer, with each instance's fields copied shallowly from the class's declared ones.

    DRF deep-copies every declared field for every serializer instance (``Field.__deepcopy__`` runs the field's
    ``__init__`` again on deep copies of its arguments, error messages and help texts included): for a
    declaration that was 60 % of the input's validation time. Only the per-instance state has to be fresh —
    ``bind`` sets the name, parent, label and source on the copy — the rest (arguments, validators, error
    messages, a list's child) is never changed after ``__init__``, so it is shared. Declared fields are never
    bound themselves (DRF binds the copies), so a copy never inherits another instance's binding.
    """

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


# --- Fields ----------------------------------------------------------------------------------------------

class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: ``4500000``, not ``4500000.0``, ``"4500000"`` or ``true``."""

    default_error_messages = {"invalid": _("A whole number of francs CFA is required (a JSON integer).")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time with its offset (``2026-03-02T09:15:00Z``), not in the future."""

    default_error_messages = {
        "naive": _("Give the time zone (for example 2026-03-02T09:15:00Z)."),
        "out_of_range": _("This date is out of range (from 2000 to tomorrow)."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        result = super().to_internal_value(value)
        if not (EARLIEST <= result <= timezone.now() + CLOCK_SKEW):
            self.fail("out_of_range")
        return result


class OfficeCodeField(serializers.CharField):
    default_error_messages = {"invalid_code": _("A customs office code (letters and digits) is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not OFFICE_CODE_RE.match(value):
            self.fail("invalid_code")
        return value.upper()


def _hs_code(value: str) -> str:
    if not re.fullmatch(r"[0-9]{6,10}", re.sub(r"[.\s]", "", value)):
        raise serializers.ValidationError(_("An HS code has 6 to 10 digits (dots and spaces allowed)."))
    return value


# --- Input -----------------------------------------------------------------------------------------------

class GuaranteeCheckIn(Serializer):
    access_code = serializers.CharField(max_length=16, help_text=_("The 4-character access code of the guarantee."))
    amount = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=_("Amount the caller wants to secure, in whole francs CFA; answers whether it is covered."),
    )


class GoodsLineIn(Serializer):
    hs_code = serializers.CharField(max_length=20, validators=[_hs_code])
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    customs_value = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT, help_text=_("Whole francs CFA."))
    gross_mass_kg = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=10**7)


class TransportIn(Serializer):
    vehicle = serializers.CharField(max_length=40, required=False, allow_blank=True)
    containers = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=50
    )
    seals = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=100)


class TransitDeclareIn(Serializer):
    declaration_ref = serializers.RegexField(
        DECLARATION_REF_RE, max_length=64,
        help_text=_("The customs system's own reference: letters, digits, '.', '_' and '-'; unique."),
        error_messages={"invalid": _("Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
                                     "digit.")},
    )
    grn = serializers.CharField(max_length=30)
    access_code = serializers.CharField(max_length=16)
    office_of_departure = OfficeCodeField()
    office_of_destination = OfficeCodeField()
    route = serializers.ListField(
        child=OfficeCodeField(), required=False, max_length=20,
        help_text=_("Border offices in order; optional when a corridor is named."),
    )
    corridor = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    declared_at = AwareDateTimeField()
    amount = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=_("Amount at stake computed by the customs system; when absent it is computed from the goods."),
    )
    goods = GoodsLineIn(many=True, required=False, max_length=500)
    transport = TransportIn(required=False)

    def to_service_data(self) -> dict:
        """The declaration as ``transit_declare`` takes it: every key present, so the same body always gives
        the same content digest (the basis of replays)."""
        v = self.validated_data
        return {
            "declaration_ref": v["declaration_ref"],
            "office_of_departure": v["office_of_departure"],
            "office_of_destination": v["office_of_destination"],
            "route": list(v.get("route") or []),
            "corridor": (v.get("corridor") or "").strip() or None,
            "declared_at": v["declared_at"],
            "amount": v.get("amount"),
            "goods": [dict(line) for line in v.get("goods") or []],
            "transport": dict(v.get("transport") or {}),
        }


class TransitEventIn(Serializer):
    message_id = serializers.CharField(max_length=100, help_text=_("The sender's own id of this message."))
    type = serializers.ChoiceField(choices=EventType.choices)
    office = OfficeCodeField()
    occurred_at = AwareDateTimeField()
    amount_released = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=_("Partial discharge only: the amount released, in whole francs CFA."),
    )

    def validate(self, attrs):
        if attrs["type"] == EventType.PARTIAL_DISCHARGE and attrs.get("amount_released") is None:
            raise serializers.ValidationError(
                {"amount_released": [_("A partial discharge needs the amount released.")]}
            )
        if attrs["type"] != EventType.PARTIAL_DISCHARGE and attrs.get("amount_released") is not None:
            raise serializers.ValidationError(
                {"amount_released": [_("Only a partial discharge carries an amount released.")]}
            )
        return attrs


class TransitEventFileLineIn(TransitEventIn):
    """One line of a discharge file: an event, with the declaration it is about; ``type`` defaults to
    ``discharge``. (Documentation of the JSON form; the lines are checked one by one in the background.)"""

    declaration_ref = serializers.CharField(max_length=64)
    type = serializers.ChoiceField(choices=EventType.choices, required=False)


class DischargeFileIn(Serializer):
    file = serializers.FileField(help_text=_("CSV (message_id, declaration_ref, type, office, occurred_at, "
                                             "amount_released) or JSON (a list of events)."))


# --- Output ----------------------------------------------------------------------------------------------

class PrincipalOut(Serializer):
    name = serializers.CharField()
    tin = serializers.CharField()


class GuarantorOut(Serializer):
    name = serializers.CharField()


class GuaranteeCheckOut(Serializer):
    grn = serializers.CharField()
    status = serializers.ChoiceField(choices=GuaranteeStatus.choices)
    valid = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the guarantee cannot secure a transit now: suspended, expired, cancelled, closed, "
                  "not_active, not_yet_valid, insufficient_balance.",
    )
    currency = serializers.CharField()
    available = serializers.IntegerField()
    sufficient = serializers.BooleanField(allow_null=True)
    valid_until = serializers.DateField()
    countries = serializers.ListField(child=serializers.CharField())
    principal = PrincipalOut()
    guarantor = GuarantorOut()


class BalanceOut(Serializer):
    amount = serializers.IntegerField(help_text="Reference amount, whole francs CFA.")
    held = serializers.IntegerField()
    claimed = serializers.IntegerField()
    paid = serializers.IntegerField()
    available = serializers.IntegerField()


class OpenHoldOut(Serializer):
    declaration_ref = serializers.CharField(source="reference")
    status = serializers.ChoiceField(choices=HoldStatus.choices)
    amount_taken = serializers.IntegerField(source="initial_amount")
    amount_held = serializers.IntegerField(source="amount")
    claimed = serializers.IntegerField(source="claimed_amount")
    taken_at = serializers.DateTimeField(source="created_at")


class GuaranteeOut(Serializer):
    grn = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=GuaranteeStatus.choices)
    currency = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    countries = serializers.SerializerMethodField()
    principal = serializers.SerializerMethodField()
    guarantor = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_countries(self, obj) -> list[str]:
        return list(self.context.get("countries", []))

    @extend_schema_field(PrincipalOut)
    def get_principal(self, obj) -> dict:
        return {"name": obj.principal.name, "tin": obj.principal.tin}

    @extend_schema_field(GuarantorOut)
    def get_guarantor(self, obj) -> dict:
        return {"name": obj.bank.organisation.name}

    @extend_schema_field(BalanceOut)
    def get_balance(self, obj) -> dict:
        return {"amount": obj.amount, "held": obj.held, "claimed": obj.claimed, "paid": obj.paid,
                "available": max(obj.available, 0)}


class GuaranteeDetailOut(GuaranteeOut):
    open_holds = serializers.SerializerMethodField()

    @extend_schema_field(OpenHoldOut(many=True))
    def get_open_holds(self, obj) -> list[dict]:
        return OpenHoldOut(getattr(obj, "open_holds", []), many=True).data


class GuaranteeRefOut(Serializer):
    grn = serializers.CharField()
    available = serializers.IntegerField(help_text="Available balance right after this transit's hold was taken.")


class TransitDeclaredOut(Serializer):
    declaration_ref = serializers.CharField()
    status = serializers.ChoiceField(choices=[TransitStatus.DECLARED])
    amount_held = serializers.IntegerField()
    deadline = serializers.DateTimeField()
    guarantee = GuaranteeRefOut()


class TransitGuaranteeOut(Serializer):
    grn = serializers.CharField()


class TransitOut(Serializer):
    declaration_ref = serializers.CharField()
    status = serializers.ChoiceField(choices=TransitStatus.choices)
    guarantee = serializers.SerializerMethodField()
    office_of_departure = serializers.CharField(source="office_of_departure.code")
    office_of_destination = serializers.CharField(source="office_of_destination.code")
    route = serializers.SerializerMethodField()
    corridor = serializers.SerializerMethodField()
    declared_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    overdue = serializers.SerializerMethodField()
    amount_held = serializers.IntegerField()
    amount_source = serializers.CharField()
    arrived_at = serializers.DateTimeField(allow_null=True)
    discharged_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(TransitGuaranteeOut)
    def get_guarantee(self, obj) -> dict:
        return {"grn": obj.guarantee.grn}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_route(self, obj) -> list[str]:
        stops = sorted(obj.stops.all(), key=lambda s: s.position)
        return [s.office.code for s in stops[1:-1]]

    @extend_schema_field(OpenApiTypes.STR)
    def get_corridor(self, obj) -> str | None:
        return obj.corridor.code if obj.corridor_id else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj) -> bool:
        if obj.status == TransitStatus.OVERDUE:
            return True
        open_ = obj.status in (TransitStatus.DECLARED, TransitStatus.IN_TRANSIT, TransitStatus.ARRIVED)
        return open_ and obj.deadline < timezone.now()


class TransitEventOut(Serializer):
    message_id = serializers.CharField()
    type = serializers.ChoiceField(choices=EventType.choices)
    office = serializers.CharField(source="office.code")
    occurred_at = serializers.DateTimeField()
    amount_released = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(help_text="received, waiting, applied or rejected.")
    error_code = serializers.CharField()
    received_at = serializers.DateTimeField()


class TransitHoldOut(Serializer):
    status = serializers.ChoiceField(choices=HoldStatus.choices)
    amount_taken = serializers.IntegerField(source="initial_amount")
    amount_held = serializers.IntegerField(source="amount")
    claimed = serializers.IntegerField(source="claimed_amount")
    paid = serializers.IntegerField(source="paid_amount")
    taken_at = serializers.DateTimeField(source="created_at")
    closed_at = serializers.DateTimeField(allow_null=True)


class TransitStopOut(Serializer):
    position = serializers.IntegerField()
    office = serializers.CharField(source="office.code")
    country = serializers.CharField(source="country_id")
    role = serializers.CharField()


class TransitDetailOut(TransitOut):
    stops = serializers.SerializerMethodField()
    goods = serializers.JSONField()
    transport = serializers.JSONField()
    amount_breakdown = serializers.JSONField()
    hold = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    @extend_schema_field(TransitStopOut(many=True))
    def get_stops(self, obj) -> list[dict]:
        return TransitStopOut(sorted(obj.stops.all(), key=lambda s: s.position), many=True).data

    @extend_schema_field(TransitHoldOut(allow_null=True))
    def get_hold(self, obj) -> dict | None:
        return TransitHoldOut(obj.hold).data if obj.hold_id else None

    @extend_schema_field(TransitEventOut(many=True))
    def get_events(self, obj) -> list[dict]:
        return TransitEventOut(obj.events.all(), many=True).data


class EventAcceptedOut(Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate"])


class JobAcceptedOut(Serializer):
    job = serializers.IntegerField()


class JobErrorOut(Serializer):
    line = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()


class JobOut(Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Lines accepted.")
    duplicates = serializers.IntegerField(help_text="Lines already received (same message id): nothing changed.")
    failed = serializers.IntegerField()
    errors = JobErrorOut(many=True)


class ErrorOut(Serializer):
    code = serializers.CharField(help_text="Stable machine code: invalid, parse_error, not_authenticated, "
                                           "permission_denied, not_allowed, not_found, conflict, "
                                           "insufficient_balance, guarantee_not_active, country_not_covered, "
                                           "too_many_attempts, throttled, ...")
    detail = serializers.CharField(help_text="A sentence in the caller's language (Accept-Language).")


class ValidationErrorOut(ErrorOut):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class InsufficientBalanceOut(ErrorOut):
    available = serializers.IntegerField(required=False)
