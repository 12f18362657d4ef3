"""What the API accepts (``...In``) and what it answers (``...Out``), kept apart.

Docstrings and ``help_text`` are the schema's descriptions, written for the people integrating, in English (the
schema is English whatever the request's language, so they are not translated); error messages are.

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

from guarantees.limits import amount_max
from guarantees.models import (
    AmountSource,
    EventStatus,
    EventType,
    GuaranteeStatus,
    HoldStatus,
    JobStatus,
    StopRole,
    TransitStatus,
)

# An amount: what the registry takes (guarantees.limits, the REGISTRY_MAX_AMOUNT setting within a BIGINT), so the
# schema says the bound the services enforce. A customs value (of goods) is not an amount at stake: its own bound.
MAX_AMOUNT = amount_max()
MAX_CUSTOMS_VALUE = 10**15
DECLARATION_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
OFFICE_CODE_RE = re.compile(r"^[A-Za-z0-9]{2,12}$")
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
# A customs system's clock may run a little ahead of ours; a date further in the future is a mistake.
CLOCK_SKEW = datetime.timedelta(days=1)


# --- Base ------------------------------------------------------------------------------------------------

class Serializer(serializers.Serializer):
    # (No docstring: the schema takes a serializer's docstring, or its nearest parent's, as the description of
    # its component, and this one is for the people maintaining the code.)
    #
    # DRF's serializer, with each instance's fields copied shallowly from the class's declared ones.
    # DRF deep-copies every declared field for every serializer instance (``Field.__deepcopy__`` runs the field's
    # ``__init__`` again on deep copies of its arguments, error messages and help texts included): for a
    # declaration that was 60 % of the input's validation time. Only the per-instance state has to be fresh —
    # ``bind`` sets the name, parent, label and source on the copy — the rest (arguments, validators, error
    # messages, a list's child) is never changed after ``__init__``, so it is shared. Declared fields are never
    # bound themselves (DRF binds the copies), so a copy never inherits another instance's binding.

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


# --- Fields ----------------------------------------------------------------------------------------------

# Free text: at least one character that is not a space, and no NUL character (DRF trims spaces and refuses NUL);
# a text that may be blank: no NUL character.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
BLANK_TEXT_PATTERN = r"^[^\x00]*$"
OFFICE_CODE_PATTERN = r"^[A-Za-z0-9]{2,12}$"
# 6 to 10 digits, dots and spaces allowed between them ("1006.30", "1006 30 00").
HS_CODE_PATTERN = r"^[. ]*(?:[0-9][. ]*){6,10}$"
HS_CODE_RE = re.compile(HS_CODE_PATTERN)


class _StrictString:
    """A JSON string, not a number turned into one (DRF's CharField takes ``123`` as ``"123"``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(_StrictString, serializers.CharField):
    pass


class RegexField(_StrictString, serializers.RegexField):
    pass


class StrictFloatField(serializers.FloatField):
    """A JSON number, not ``"12.5"`` or ``true``."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


def enum_field(values, field_class=serializers.CharField, **kwargs):
    """A string field documented as an inline enum of ``values`` (for codes and reasons the server gives)."""
    schema = {"type": "string", "enum": list(values)}
    if kwargs.get("allow_null"):
        schema["nullable"] = True
    cls = extend_schema_field(schema)(type("EnumField", (field_class,), {}))
    return cls(**kwargs)


class TextField(CharField):
    """A required text: DRF refuses a blank or NUL-holding one; the schema says so with its pattern
    (``guarantees.api.schema.StrictCharFieldExtension``)."""


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


class OfficeCodeField(CharField):
    schema_pattern = OFFICE_CODE_PATTERN
    default_error_messages = {"invalid_code": _("A customs office code (letters and digits) is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not OFFICE_CODE_RE.match(value):
            self.fail("invalid_code")
        return value.upper()


def _hs_code(value: str) -> str:
    if not HS_CODE_RE.fullmatch(value):
        raise serializers.ValidationError(_("An HS code has 6 to 10 digits (dots and spaces allowed)."))
    return value


class HsCodeField(CharField):
    schema_pattern = HS_CODE_PATTERN
    def __init__(self, **kwargs):
        super().__init__(max_length=20, trim_whitespace=False, validators=[_hs_code], **kwargs)


# --- Input -----------------------------------------------------------------------------------------------

class GuaranteeCheckIn(Serializer):
    """What a customs system sends to check a guarantee before it declares a transit on it."""

    access_code = TextField(max_length=16, help_text=("The guarantee's access code, as the forwarder gave it "
                                                       "(4 characters, e.g. `7K2Q`)."))
    amount = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=("Amount the caller wants to secure, in whole francs CFA; answers whether it is covered."),
    )


class GoodsLineIn(Serializer):
    """One line of goods of a declaration: what the amount at stake is computed from when no amount is sent."""

    hs_code = HsCodeField(help_text=("Tariff heading of the goods (Harmonized System): 6 to 10 digits."))
    description = CharField(max_length=250, required=False, allow_blank=True,
                                        help_text=("Plain description of the goods."))
    customs_value = StrictIntegerField(min_value=1, max_value=MAX_CUSTOMS_VALUE,
                                       help_text=("Customs value, in whole francs CFA."))
    gross_mass_kg = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=10**7,
                                           help_text=("Gross mass in kilograms."))


class TransportIn(Serializer):
    """How the goods travel: the vehicle, its containers and the customs seals."""

    vehicle = CharField(max_length=40, required=False, allow_blank=True,
                                    help_text=("Registration of the truck."))
    containers = serializers.ListField(
        child=CharField(max_length=20, allow_blank=True), required=False, max_length=50,
        help_text=("Container numbers."),
    )
    seals = serializers.ListField(child=CharField(max_length=40, allow_blank=True), required=False,
                                  max_length=100, help_text=("Customs seal numbers."))


class TransitDeclareIn(Serializer):
    """A transit declaration: the hold it takes on the guarantee is the amount at stake (sent, or computed from
    the goods for each country on the route)."""

    declaration_ref = RegexField(
        DECLARATION_REF_RE, max_length=64,
        help_text=("The customs system's own reference: letters, digits, '.', '_' and '-'; unique."),
        error_messages={"invalid": _("Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
                                     "digit.")},
    )
    grn = TextField(max_length=30, help_text=("Guarantee reference number (GRN) of the guarantee to hold."))
    access_code = TextField(max_length=16, help_text=("The guarantee's access code, as the forwarder gave it."))
    office_of_departure = OfficeCodeField(help_text=("Code of the office of departure: an office of the caller's "
                                                      "country, known to the registry."))
    office_of_destination = OfficeCodeField(help_text=("Code of the office of destination, known to the "
                                                        "registry."))
    route = serializers.ListField(
        child=OfficeCodeField(), required=False, max_length=20,
        help_text=("Border offices in order; optional when a corridor is named."),
    )
    corridor = CharField(max_length=32, required=False, allow_null=True, allow_blank=True,
                                     help_text=("Code of a corridor known to the registry (e.g. `LOM-OUA`); "
                                                 "its border offices are the route when none is sent."))
    declared_at = AwareDateTimeField(help_text=("When the declaration was registered: ISO 8601 with its offset "
                                                  "(`2026-03-02T09:15:00Z`), within the guarantee's validity, no later "
                                                  "than five minutes after the registry's clock, and with the "
                                                  "corridor's time limit not already past (400 `date_out_of_range`)."))
    amount = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=("Amount at stake computed by the customs system; when absent it is computed from the goods."),
    )
    goods = GoodsLineIn(many=True, required=False, max_length=500, help_text=("The goods carried."))
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
    """An event of a transit reported by a customs system: border exit or entry, arrival, discharge, partial
    discharge, cancellation."""

    message_id = TextField(max_length=100, help_text=("The sender's own id of this message: the same id again "
                                                       "is a replay."))
    type = serializers.ChoiceField(choices=EventType.choices, help_text=("What happened."))
    office = OfficeCodeField(help_text=("Code of the office where it happened: an office of the caller's "
                                         "country."))
    occurred_at = AwareDateTimeField(help_text=("When it happened: ISO 8601 with its offset "
                                                   "(`2026-03-02T09:15:00Z`), from 2000-01-01 to no later than a "
                                                   "day after the registry's clock."))
    amount_released = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT,
        help_text=("Partial discharge only (and required for it): the amount released, in whole francs CFA."),
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
    """One line of a discharge file: an event, with the declaration it is about. `type` defaults to
    `discharge`, as in a CSV file. Lines are checked one by one in the background; a refused line is listed
    in the job's `errors`."""

    declaration_ref = CharField(max_length=64, help_text=("The declaration the event is about."))
    type = serializers.ChoiceField(choices=EventType.choices, required=False, default=EventType.DISCHARGE,
                                   help_text=("What happened; `discharge` when absent."))


class DischargeFileLineIn(Serializer):
    """One event of a discharge file sent as JSON. The file is refused at once (400 `invalid_file`) unless it is
    a list of such objects; each line's formats and rules (a date with its offset, a known office of the
    caller's country, the event rules) are then checked in the background, a refused line listed in the job's
    `errors` with its number and code."""

    message_id = CharField(max_length=100, help_text=("The sender's own id of this message: the "
                                                                   "same id again is a replay."))
    declaration_ref = CharField(max_length=64, help_text=("The declaration the event is about."))
    type = serializers.ChoiceField(choices=EventType.choices, required=False, allow_null=True,
                                   help_text=("What happened; `discharge` when absent or null, as in a CSV "
                                               "file."))
    office = CharField(max_length=12, help_text=("Code of the office where it happened (letters and "
                                                              "digits): an office of the caller's country."))
    occurred_at = CharField(max_length=64, help_text=("When it happened: ISO 8601 with its offset "
                                                                   "(`2026-03-06T15:40:00Z`)."))
    amount_released = serializers.IntegerField(required=False, allow_null=True,
                                               help_text=("Partial discharge only: the amount released, whole "
                                                           "francs CFA."))


class DischargeFileJsonIn(Serializer):
    """A discharge file as a JSON document."""

    events = DischargeFileLineIn(many=True, allow_empty=False, help_text=("The events, one per line of the "
                                                                          "file."))


class DischargeFileIn(Serializer):
    """A discharge file sent as a multipart form."""

    file = serializers.FileField(help_text=("UTF-8 CSV with the header message_id, declaration_ref, type, "
                                             "office, occurred_at, amount_released; or a JSON list of events."))


# --- Output ----------------------------------------------------------------------------------------------

class PrincipalOut(Serializer):
    """The forwarder (principal) the guarantee secures."""

    name = serializers.CharField(help_text=("Registered name."))
    tin = serializers.CharField(help_text=("Tax identification number."))


class GuarantorOut(Serializer):
    """The bank that issued the guarantee."""

    name = serializers.CharField(help_text=("Name of the bank."))


_CHECK_REASONS = ("suspended", "expired", "cancelled", "closed", "not_active", "not_yet_valid",
                  "insufficient_balance")
_CURRENCY = enum_field(["XOF"], help_text=("Always XOF: amounts are whole francs CFA."))


class GuaranteeCheckOut(Serializer):
    """Whether a guarantee can secure a transit now, with its live available balance."""

    grn = serializers.CharField(help_text=("Guarantee reference number."))
    status = serializers.ChoiceField(choices=GuaranteeStatus.choices, help_text=("Status of the guarantee."))
    valid = serializers.BooleanField(help_text=("True when it can secure a transit now (no reason against)."))
    reasons = serializers.ListField(
        child=enum_field(_CHECK_REASONS),
        help_text=("Why the guarantee cannot secure a transit now; empty when `valid`."),
    )
    currency = _CURRENCY
    available = serializers.IntegerField(help_text=("Available balance now, whole francs CFA."))
    sufficient = serializers.BooleanField(allow_null=True, help_text=("Whether `available` covers the amount "
                                                                       "asked; null when none was asked."))
    valid_until = serializers.DateField(help_text=("Last day of validity."))
    countries = serializers.ListField(child=serializers.CharField(), help_text=("Countries covered (ISO codes)."))
    principal = PrincipalOut()
    guarantor = GuarantorOut()


class BalanceOut(Serializer):
    """The guarantee's amounts, in whole francs CFA: `available` = `amount` − `held` − `claimed` − `paid`."""

    amount = serializers.IntegerField(help_text=("Reference amount."))
    held = serializers.IntegerField(help_text=("Held by open transits."))
    claimed = serializers.IntegerField(help_text=("Claimed by customs, not yet paid."))
    paid = serializers.IntegerField(help_text=("Paid by the bank on claims."))
    available = serializers.IntegerField(help_text=("What can still be held (never below zero)."))


class OpenHoldOut(Serializer):
    """A hold still open on the guarantee: the transit it secures and the amounts."""

    declaration_ref = serializers.CharField(source="reference", help_text=("The transit's declaration."))
    status = serializers.ChoiceField(choices=HoldStatus.choices, help_text=("Status of the hold."))
    amount_taken = serializers.IntegerField(source="initial_amount", help_text=("Amount first held."))
    amount_held = serializers.IntegerField(source="amount", help_text=("Amount still held."))
    claimed = serializers.IntegerField(source="claimed_amount", help_text=("Amount claimed on it."))
    taken_at = serializers.DateTimeField(source="created_at", help_text=("When it was taken."))


class GuaranteeOut(Serializer):
    """A guarantee (caution unique) as the caller may see it."""

    grn = serializers.CharField(allow_null=True, help_text=("Guarantee reference number; null until the "
                                                             "guarantee is issued."))
    status = serializers.ChoiceField(choices=GuaranteeStatus.choices, help_text=("Status of the guarantee."))
    currency = _CURRENCY
    valid_from = serializers.DateField(help_text=("First day of validity."))
    valid_until = serializers.DateField(help_text=("Last day of validity."))
    countries = serializers.SerializerMethodField(help_text=("Countries covered (ISO codes)."))
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
    """A guarantee with the holds still open on it."""

    open_holds = serializers.SerializerMethodField()

    @extend_schema_field(OpenHoldOut(many=True))
    def get_open_holds(self, obj) -> list[dict]:
        return OpenHoldOut(getattr(obj, "open_holds", []), many=True).data


class GuaranteeRefOut(Serializer):
    """The guarantee a declaration holds, with its balance right after the hold."""

    grn = serializers.CharField(help_text=("Guarantee reference number."))
    available = serializers.IntegerField(help_text=("Available balance right after this transit's hold was "
                                                     "taken, whole francs CFA."))


class TransitDeclaredOut(Serializer):
    """The receipt of a declaration: what was held and until when; the same on every replay."""

    declaration_ref = serializers.CharField(help_text=("The declaration."))
    status = serializers.ChoiceField(choices=[TransitStatus.DECLARED], help_text=("Always `declared`."))
    amount_held = serializers.IntegerField(help_text=("Amount held on the guarantee, whole francs CFA."))
    deadline = serializers.DateTimeField(help_text=("Time limit to discharge the transit."))
    guarantee = GuaranteeRefOut()


class TransitGuaranteeOut(Serializer):
    """The guarantee that secures the transit."""

    grn = serializers.CharField(help_text=("Guarantee reference number."))


class TransitOut(Serializer):
    """A transit under the guarantee as the caller may see it."""

    declaration_ref = serializers.CharField(help_text=("The customs system's declaration reference."))
    status = serializers.ChoiceField(choices=TransitStatus.choices, help_text=("Where the transit stands."))
    guarantee = serializers.SerializerMethodField()
    office_of_departure = serializers.CharField(source="office_of_departure.code",
                                                help_text=("Code of the office of departure."))
    office_of_destination = serializers.CharField(source="office_of_destination.code",
                                                  help_text=("Code of the office of destination."))
    route = serializers.SerializerMethodField(help_text=("Border offices in order."))
    corridor = serializers.SerializerMethodField(help_text=("Corridor code; null when the route was given "
                                                             "office by office."))
    declared_at = serializers.DateTimeField(help_text=("When it was declared."))
    deadline = serializers.DateTimeField(help_text=("Time limit to discharge it."))
    overdue = serializers.SerializerMethodField(help_text=("Still open past its time limit."))
    amount_held = serializers.IntegerField(help_text=("Amount at stake held on the guarantee, whole francs CFA."))
    amount_source = serializers.ChoiceField(choices=AmountSource.choices,
                                            help_text=("`declared` (sent by the customs system) or `computed` "
                                                        "(from the goods)."))
    arrived_at = serializers.DateTimeField(allow_null=True, help_text=("Arrival at destination, if any."))
    discharged_at = serializers.DateTimeField(allow_null=True, help_text=("Discharge, if any."))
    cancelled_at = serializers.DateTimeField(allow_null=True, help_text=("Cancellation, if any."))

    @extend_schema_field(TransitGuaranteeOut)
    def get_guarantee(self, obj) -> dict:
        return {"grn": obj.guarantee.grn}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_route(self, obj) -> list[str]:
        stops = sorted(obj.stops.all(), key=lambda s: s.position)
        return [s.office.code for s in stops[1:-1]]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_corridor(self, obj) -> str | None:
        return obj.corridor.code if obj.corridor_id else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj) -> bool:
        if obj.status == TransitStatus.OVERDUE:
            return True
        open_ = obj.status in (TransitStatus.DECLARED, TransitStatus.IN_TRANSIT, TransitStatus.ARRIVED)
        return open_ and obj.deadline < timezone.now()


def _event_error_codes():
    from guarantees.api.error_codes import event_error_codes

    return event_error_codes()


class TransitEventOut(Serializer):
    """An event of the transit as the registry received it, with what became of it."""

    message_id = serializers.CharField(help_text=("The sender's id of the message."))
    type = serializers.ChoiceField(choices=EventType.choices, help_text=("What happened."))
    office = serializers.CharField(source="office.code", help_text=("Code of the office."))
    occurred_at = serializers.DateTimeField(help_text=("When it happened."))
    amount_released = serializers.IntegerField(allow_null=True, help_text=("Partial discharge: the amount "
                                                                            "released."))
    status = serializers.ChoiceField(choices=EventStatus.choices,
                                     help_text=("`received` (to apply), `waiting` (for its declaration), "
                                                 "`applied` or `rejected` (kept, refused: see `error_code`)."))
    error_code = enum_field(_event_error_codes(), help_text=("Why it was refused (empty unless `rejected`)."))
    received_at = serializers.DateTimeField(help_text=("When the registry received it."))


class TransitHoldOut(Serializer):
    """The hold the transit has on the guarantee."""

    status = serializers.ChoiceField(choices=HoldStatus.choices, help_text=("Status of the hold."))
    amount_taken = serializers.IntegerField(source="initial_amount", help_text=("Amount first held."))
    amount_held = serializers.IntegerField(source="amount", help_text=("Amount still held."))
    claimed = serializers.IntegerField(source="claimed_amount", help_text=("Amount claimed on it."))
    paid = serializers.IntegerField(source="paid_amount", help_text=("Amount paid on the claim."))
    taken_at = serializers.DateTimeField(source="created_at", help_text=("When it was taken."))
    closed_at = serializers.DateTimeField(allow_null=True, help_text=("When it was closed, if it is."))


class TransitStopOut(Serializer):
    """One office on the transit's route."""

    position = serializers.IntegerField(help_text=("0 for departure, then each border, then destination."))
    office = serializers.CharField(source="office.code", help_text=("Code of the office."))
    country = serializers.CharField(source="country_id", help_text=("Country of the office (ISO code)."))
    role = serializers.ChoiceField(choices=StopRole.choices, help_text=("The office's part in the route."))


class GoodsLineOut(Serializer):
    """One line of goods as declared."""

    hs_code = serializers.CharField(required=False, help_text=("Tariff heading (Harmonized System)."))
    description = serializers.CharField(required=False, help_text=("Plain description."))
    customs_value = serializers.IntegerField(required=False, help_text=("Customs value, whole francs CFA."))
    gross_mass_kg = serializers.FloatField(required=False, allow_null=True, help_text=("Gross mass in kg."))


class TransportOut(Serializer):
    """How the goods travel, as declared."""

    vehicle = serializers.CharField(required=False, help_text=("Registration of the truck."))
    containers = serializers.ListField(child=serializers.CharField(), required=False,
                                       help_text=("Container numbers."))
    seals = serializers.ListField(child=serializers.CharField(), required=False, help_text=("Customs seal numbers."))


class BreakdownLineOut(Serializer):
    """One duty or tax on one line of goods, in one country."""

    good = serializers.IntegerField(help_text=("Index of the line of goods (from 0)."))
    hs_code = serializers.CharField(help_text=("Tariff heading, digits only."))
    band_pct = serializers.CharField(help_text=("Customs duty band, percent (a decimal as text, e.g. `20`)."))
    levy = serializers.CharField(help_text=("Code of the duty or tax."))
    rate_pct = serializers.CharField(help_text=("Its rate, percent (a decimal as text)."))
    base = serializers.IntegerField(help_text=("What it applies to, whole francs CFA."))
    amount = serializers.IntegerField(help_text=("The amount, whole francs CFA."))
    flags = serializers.ListField(child=enum_field(["unknown_hs_code"]),
                                  help_text=("`unknown_hs_code`: the highest band was applied."))


class CountryBreakdownOut(Serializer):
    """The amount at stake in one country on the route."""

    lines = BreakdownLineOut(many=True)
    total = serializers.IntegerField(help_text=("Total for the country, whole francs CFA."))


class AmountBreakdownOut(Serializer):
    """How the amount at stake was computed from the goods, country by country (the highest total is held).
    Empty (`{}`) when the customs system sent the amount."""

    amount = serializers.IntegerField(required=False, help_text=("The amount held, whole francs CFA."))
    country = serializers.CharField(required=False, help_text=("The country whose total is the highest."))
    breakdown = serializers.DictField(child=CountryBreakdownOut(), required=False,
                                      help_text=("By country (ISO code)."))
    warnings = serializers.ListField(
        child=enum_field(["unknown_hs_code", "illustrative_rate", "no_vat_rate"]), required=False,
        help_text=("`unknown_hs_code`: a heading not in the tariff; `illustrative_rate`: a rate not yet "
                    "confirmed; `no_vat_rate`: a country without a VAT rate."),
    )


class TransitDetailOut(TransitOut):
    """A transit with its route, goods, transport, how its amount was computed, its hold and its events."""

    stops = serializers.SerializerMethodField()
    goods = serializers.SerializerMethodField()
    transport = serializers.SerializerMethodField()
    amount_breakdown = serializers.SerializerMethodField()
    hold = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    @extend_schema_field(TransitStopOut(many=True))
    def get_stops(self, obj) -> list[dict]:
        return TransitStopOut(sorted(obj.stops.all(), key=lambda s: s.position), many=True).data

    @extend_schema_field(GoodsLineOut(many=True))
    def get_goods(self, obj) -> list[dict]:
        return obj.goods

    @extend_schema_field(TransportOut)
    def get_transport(self, obj) -> dict:
        return obj.transport

    @extend_schema_field(AmountBreakdownOut)
    def get_amount_breakdown(self, obj) -> dict:
        return obj.amount_breakdown

    @extend_schema_field(TransitHoldOut(allow_null=True))
    def get_hold(self, obj) -> dict | None:
        return TransitHoldOut(obj.hold).data if obj.hold_id else None

    @extend_schema_field(TransitEventOut(many=True))
    def get_events(self, obj) -> list[dict]:
        return TransitEventOut(obj.events.all(), many=True).data


class EventAcceptedOut(Serializer):
    """The answer to an event: stored (`accepted`) or already received (`duplicate`)."""

    status = serializers.ChoiceField(choices=["accepted", "duplicate"], help_text=("`accepted`: stored, applied "
                                                                                    "in the background; "
                                                                                    "`duplicate`: nothing "
                                                                                    "changed."))


class JobAcceptedOut(Serializer):
    """A discharge file stored, to be processed in the background."""

    job = serializers.IntegerField(help_text=("The job's id: follow it at `/api/v1/jobs/{job}`."))


class JobErrorOut(Serializer):
    """A line of the file that was refused."""

    line = serializers.IntegerField(help_text=("Line number (1 for the first event; 0 for the whole file)."))
    code = serializers.CharField(help_text=("Machine code of the refusal: `invalid`, an event refusal's reason "
                                             "or a domain error's code."))
    detail = serializers.CharField(help_text=("Why, in words."))


class JobOut(Serializer):
    """The progress of a discharge file."""

    id = serializers.IntegerField(help_text=("The job's id."))
    status = serializers.ChoiceField(choices=JobStatus.choices, help_text=("Where the job stands."))
    total = serializers.IntegerField(help_text=("Lines in the file."))
    done = serializers.IntegerField(help_text=("Lines accepted."))
    duplicates = serializers.IntegerField(help_text=("Lines already received (same message id): nothing "
                                                      "changed."))
    failed = serializers.IntegerField(help_text=("Lines refused (see `errors`)."))
    errors = JobErrorOut(many=True)


# --- Errors ----------------------------------------------------------------------------------------------
# One component per error status, its ``code`` an enum of every code the exception handler can give for that
# status (guarantees.api.error_codes, from the tree of domain errors).

_DETAIL_HELP = ("A sentence for people, in the caller's language (Accept-Language; French by default). Read "
                 "`code`, not this.")


def _error_serializer(name: str, status: int, doc: str, extra: dict | None = None):
    from guarantees.api.error_codes import EVENT_REFUSAL_REASONS, error_codes

    fields = {
        "__doc__": doc,
        "__module__": __name__,
        "code": enum_field(error_codes(status), help_text=("Stable machine code of the error.")),
        "detail": serializers.CharField(help_text=_DETAIL_HELP),
    }
    if status == 403:
        fields["reason"] = enum_field(EVENT_REFUSAL_REASONS, required=False,
                                      help_text=("With `event_refused`: why the event was refused."))
    fields.update(extra or {})
    return type(name, (Serializer,), fields)


ValidationErrorOut = _error_serializer(
    "ValidationErrorOut", 400,
    "The request is invalid: `errors` lists the messages by field (nested fields as `goods.0.hs_code`; "
    "`non_field_errors` for the whole body).",
    {"errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                     help_text=("Messages by field."))},
)
UnauthenticatedErrorOut = _error_serializer(
    "UnauthenticatedErrorOut", 401, "No credentials, or an unknown or revoked API key.")
ForbiddenErrorOut = _error_serializer("ForbiddenErrorOut", 403, "The caller may not do this.")
NotFoundErrorOut = _error_serializer(
    "NotFoundErrorOut", 404, "Unknown, or not visible to the caller: the same answer for both.")
ConflictErrorOut = _error_serializer(
    "ConflictErrorOut", 409, "A business rule refuses it now.",
    {"available": serializers.IntegerField(required=False, help_text=("With `insufficient_balance`: the "
                                                                       "available balance, whole francs CFA."))},
)
TooLargeErrorOut = _error_serializer("TooLargeErrorOut", 413, "The body is larger than the server takes.")
UnsupportedMediaTypeErrorOut = _error_serializer(
    "UnsupportedMediaTypeErrorOut", 415, "The body's content type is not one this operation takes.")
ThrottledErrorOut = _error_serializer(
    "ThrottledErrorOut", 429, "Slowed down: wait `retry_after` seconds (also in the Retry-After header).",
    {"retry_after": serializers.IntegerField(min_value=1, help_text=("Seconds to wait."))},
)

ERROR_SERIALIZERS = {
    400: ValidationErrorOut, 401: UnauthenticatedErrorOut, 403: ForbiddenErrorOut, 404: NotFoundErrorOut,
    409: ConflictErrorOut, 413: TooLargeErrorOut, 415: UnsupportedMediaTypeErrorOut, 429: ThrottledErrorOut,
}
