"""Django admin of the guarantees app.

Reference data (countries, customs offices, corridors, levies and rates, tariff) is kept by the
secretariat: every value is editable here. ``manage.py seed_reference`` creates missing rows only, so
these edits survive a re-seed (``--update`` overwrites them). Verbose names come from the models.
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join, urlize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from guarantees.models import Corridor, CorridorStop, Country, Levy, Office, TariffLine

# ---------------------------------------------------------------------------------------------------------
# Reference models
# ---------------------------------------------------------------------------------------------------------

_SOURCE_FIELDSET = (
    _("Source"),
    {
        "classes": ["collapse"],
        "fields": ["source_links", "source"],
        "description": _(
            "Where the values come from (addresses separated by “ ; ”). Keep it up to date when you change "
            "a value, and untick “unconfirmed” once an official text confirms it."
        ),
    },
)


class SourceAdminMixin:
    """Shows the ``source`` text as clickable references above a small, monospaced text area."""

    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 100})},
    }

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "source_links"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "source" in form.base_fields:
            form.base_fields["source"].widget = forms.Textarea(
                attrs={"rows": 4, "cols": 100, "style": "font-family: monospace; font-size: 0.85em; color: #555"}
            )
        return form

    @admin.display(description=_("references"))
    def source_links(self, obj):
        parts = [part.strip() for part in (obj.source or "").split(" ; ") if part.strip()] if obj else []
        if not parts:
            return "—"
        return format_html(
            "<ul style='margin: 0; padding-left: 1.2em'>{}</ul>",
            format_html_join(
                "", "<li>{}</li>", ((mark_safe(urlize(part, nofollow=True, autoescape=True)),) for part in parts)
            ),
        )


@admin.register(Country)
class CountryAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_en", "timezone", "currency", "member_of", "is_covered"]
    list_filter = ["is_covered", "member_of"]
    search_fields = ["code", "name_fr", "name_en"]
    fieldsets = [
        (None, {"fields": ["code", "name_fr", "name_en", "timezone", "currency", "member_of", "is_covered"]}),
        _SOURCE_FIELDSET,
    ]

    def get_readonly_fields(self, request, obj=None):
        # The ISO code is the primary key that every other table refers to: set once.
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "code"] if obj else fields


@admin.register(Office)
class OfficeAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "country", "role", "town", "paired_with", "is_active", "is_illustrative"]
    list_filter = ["country", "role", "is_active", "is_illustrative"]
    search_fields = ["code", "name", "town"]
    list_select_related = ["country", "paired_with"]
    autocomplete_fields = ["paired_with"]
    fieldsets = [
        (None, {"fields": ["code", "name", "country", "role", "town", "paired_with", "is_active"]}),
        (_("Location"), {"fields": ["latitude", "longitude"]}),
        (_("Confidence"), {"fields": ["is_illustrative"]}),
        _SOURCE_FIELDSET,
    ]


class CorridorStopInline(admin.TabularInline):
    model = CorridorStop
    fields = ["position", "office"]
    ordering = ["position"]
    autocomplete_fields = ["office"]
    extra = 0
    min_num = 2


@admin.register(Corridor)
class CorridorAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "distance_km", "time_limit_days", "stop_count", "is_active", "is_illustrative"]
    list_filter = ["is_active", "is_illustrative"]
    search_fields = ["code", "name", "stops__office__code", "stops__office__town"]
    inlines = [CorridorStopInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "distance_km", "time_limit_days", "is_active"]}),
        (_("Confidence"), {"fields": ["is_illustrative"]}),
        _SOURCE_FIELDSET,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_stop_count=models.Count("stops"))

    @admin.display(description=_("stops"), ordering="_stop_count")
    def stop_count(self, obj):
        return obj._stop_count


@admin.register(Levy)
class LevyAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "scope",
        "kind",
        "rate_pct",
        "in_amount_at_stake",
        "valid_from",
        "valid_until",
        "is_illustrative",
    ]
    list_filter = ["country", "kind", "in_amount_at_stake", "is_illustrative"]
    search_fields = ["code", "name", "applies_to", "base"]
    list_select_related = ["country"]
    fieldsets = [
        (None, {"fields": ["country", "code", "name", "kind"]}),
        (_("Rate"), {"fields": ["rate_pct", "base", "applies_to", "in_amount_at_stake"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_until"]}),
        (_("Confidence"), {"fields": ["is_illustrative"]}),
        _SOURCE_FIELDSET,
    ]

    @admin.display(description=_("country"), ordering="country")
    def scope(self, obj):
        return obj.country or _("all countries")


@admin.register(TariffLine)
class TariffLineAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = ["hs_code", "description_fr", "band_pct", "valid_from", "valid_until", "is_illustrative"]
    list_filter = ["band_pct", "is_illustrative"]
    search_fields = ["hs_code", "description_fr", "description_en"]
    fieldsets = [
        (None, {"fields": ["hs_code", "description_fr", "description_en", "band_pct"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_until"]}),
        (_("Confidence"), {"fields": ["is_illustrative"]}),
        _SOURCE_FIELDSET,
    ]


# ---------------------------------------------------------------------------------------------------------
# Registry models
# ---------------------------------------------------------------------------------------------------------
# (banks, guarantees, holds, ledger, …: to be added here by the registry engineer)
#
# Money moves only through the services, which append a ledger entry in the same transaction. The admin is
# therefore a window on the registry: balances, statuses, ledger entries and the audit trail are read-only
# here, and nothing is added or deleted. Banks are approved and their ceilings changed on the secretariat's
# pages (``guarantees:banks``), so that every change is recorded with its reason.

from guarantees.models import (  # noqa: E402
    AccessCode,
    Amendment,
    Bank,
    EventRule,
    LedgerCheckpoint,
    BankCeilingChange,
    Guarantee,
    GuaranteeEvent,
    GuaranteeVersion,
    Hold,
    LedgerEntry,
)


def _fcfa(value) -> str:
    from guarantees.formats import format_fcfa

    return format_fcfa(value)


class ReadOnlyAdminMixin:
    """Viewable, never added, changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class BankCeilingChangeInline(ReadOnlyInline):
    model = BankCeilingChange
    fields = ["changed_at", "previous_ceiling", "new_ceiling", "reason", "changed_by"]
    readonly_fields = fields


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ["organisation", "is_approved", "ceiling", "approved_at", "approval_reference"]
    list_filter = ["is_approved"]
    search_fields = ["organisation__name", "organisation__short_name"]
    list_select_related = ["organisation"]
    fields = ["organisation", "is_approved", "exposure_ceiling", "approved_at", "approved_by", "approval_reference"]
    readonly_fields = ["organisation", "is_approved", "exposure_ceiling", "approved_at", "approved_by"]
    inlines = [BankCeilingChangeInline]

    def has_add_permission(self, request):
        return False  # approval is recorded on the secretariat's "Banks" page

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("exposure ceiling"), ordering="exposure_ceiling")
    def ceiling(self, obj):
        return _fcfa(obj.exposure_ceiling)


class GuaranteeVersionInline(ReadOnlyInline):
    model = GuaranteeVersion
    fields = ["number", "amount", "valid_from", "valid_until", "amendment", "created_at"]
    readonly_fields = fields


class AmendmentInline(ReadOnlyInline):
    model = Amendment
    fields = ["status", "new_amount", "new_valid_until", "requested_by", "prepared_by", "checked_by", "requested_at"]
    readonly_fields = fields
    show_change_link = True


class AccessCodeInline(ReadOnlyInline):
    model = AccessCode
    fields = ["label", "created_by", "created_at", "last_used_at", "revoked_at"]  # never the hash
    readonly_fields = fields


class GuaranteeEventInline(ReadOnlyInline):
    model = GuaranteeEvent
    fields = ["at", "action", "from_status", "to_status", "by", "comment", "internal"]
    readonly_fields = fields


@admin.register(Guarantee)
class GuaranteeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "principal", "bank", "status", "amount_fcfa", "available_fcfa", "valid_until"]
    list_filter = ["status", "country", "bank"]
    search_fields = ["grn", "principal__name", "principal__short_name", "principal__tin"]
    list_select_related = ["principal", "bank__organisation"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["grn", "status", "status_reason", "principal", "bank", "country", "version"]}),
        (_("Terms"), {"fields": ["requested_amount", "valid_from", "valid_until", "purpose", "low_balance_pct"]}),
        (_("Balances"), {"fields": ["amount", "held", "claimed", "paid", "available_fcfa", "ledger_seq", "ledger_hash"]}),
        (_("Decisions"), {"fields": [
            "requested_by", "submitted_at", "preparation", "prepared_by", "prepared_at", "maker_comment",
            "confirmed_by", "confirmed_at", "decline_reason", "accepted_by", "activated_at",
        ]}),
    ]
    # Only the alert threshold and the purpose are editable; everything else changes through the services.
    readonly_fields = [
        "grn", "status", "status_reason", "principal", "bank", "country", "version", "requested_amount",
        "valid_from", "valid_until", "amount", "held", "claimed", "paid", "available_fcfa", "ledger_seq",
        "ledger_hash", "requested_by", "submitted_at", "preparation", "prepared_by", "prepared_at", "maker_comment",
        "confirmed_by", "confirmed_at", "decline_reason", "accepted_by", "activated_at",
    ]
    inlines = [GuaranteeVersionInline, AmendmentInline, AccessCodeInline, GuaranteeEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("reference amount"), ordering="amount")
    def amount_fcfa(self, obj):
        return _fcfa(obj.amount or obj.requested_amount)

    @admin.display(description=_("available"))
    def available_fcfa(self, obj):
        return _fcfa(obj.available)


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["guarantee", "status", "new_amount", "new_valid_until", "requested_at", "prepared_by", "checked_by"]
    list_filter = ["status"]
    search_fields = ["guarantee__grn", "guarantee__principal__name"]
    list_select_related = ["guarantee", "prepared_by", "checked_by"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "guarantee", "status", "initial_amount", "amount", "claimed_amount", "paid_amount",
                    "created_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["reference", "guarantee__grn"]
    list_select_related = ["guarantee"]
    date_hierarchy = "created_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["guarantee", "seq", "kind", "d_amount", "d_held", "d_claimed", "d_paid", "reference", "created_at"]
    list_filter = ["kind"]
    search_fields = ["guarantee__grn", "reference", "hash"]
    list_select_related = ["guarantee"]
    ordering = ["-created_at", "-seq"]
    date_hierarchy = "created_at"


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "guarantees", "entries", "digest", "algorithm"]
    ordering = ["-created_at", "-id"]
    exclude = ["document"]
    readonly_fields = ["created_at", "guarantees", "entries", "digest", "previous_digest", "algorithm", "signature",
                       "certificate"]


@admin.register(EventRule)
class EventRuleAdmin(admin.ModelAdmin):
    """Who may report each type of transit event, and where. A type without a row follows the scheme's default
    rule; a change takes effect within 30 seconds in every process."""

    list_display = ["event_type", "sender", "place", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # a type always has its rule; change it instead


@admin.register(GuaranteeEvent)
class GuaranteeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["guarantee", "at", "action", "from_status", "to_status", "by", "internal"]
    list_filter = ["action", "internal"]
    search_fields = ["guarantee__grn", "comment", "by__email"]
    list_select_related = ["guarantee", "by"]
    date_hierarchy = "at"


# ---------------------------------------------------------------------------------------------------------
# Calendars, enquiries, manual releases and claims
# ---------------------------------------------------------------------------------------------------------
# Public holidays are reference data the secretariat keeps (the working-day deadlines count on them). Enquiries,
# releases and claims move money through the ledger and change only through their services: read-only here.

from guarantees.models import (  # noqa: E402
    CaseEvent,
    Claim,
    Enquiry,
    EnquiryAnswer,
    EnquiryDocument,
    ManualRelease,
    PublicHoliday,
)


@admin.register(PublicHoliday)
class PublicHolidayAdmin(SourceAdminMixin, admin.ModelAdmin):
    list_display = ["date", "country", "name", "recurs_yearly", "is_illustrative"]
    list_filter = ["country", "recurs_yearly", "is_illustrative"]
    search_fields = ["name"]
    date_hierarchy = "date"
    fieldsets = [
        (None, {"fields": ["country", "date", "name", "recurs_yearly"]}),
        (_("Confidence"), {"fields": ["is_illustrative"]}),
        _SOURCE_FIELDSET,
    ]


class EnquiryAnswerInline(ReadOnlyInline):
    model = EnquiryAnswer
    fields = ["answered_at", "kind", "text", "payment_reference", "paid_on", "amount_paid", "answered_by"]
    readonly_fields = fields


@admin.register(Enquiry)
class EnquiryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["transit", "customs", "ground", "status", "outcome", "opened_at", "answer_due"]
    list_filter = ["status", "ground", "outcome"]
    search_fields = ["transit__declaration_ref", "transit__guarantee__grn"]
    list_select_related = ["transit", "customs"]
    date_hierarchy = "opened_at"
    inlines = [EnquiryAnswerInline]


@admin.register(EnquiryDocument)
class EnquiryDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "content_type", "size", "answer", "uploaded_at"]
    search_fields = ["original_name", "sha256", "answer__enquiry__transit__declaration_ref"]
    list_select_related = ["answer"]


@admin.register(ManualRelease)
class ManualReleaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["transit", "customs", "ground", "status", "proposed_by", "decided_by", "proposed_at"]
    list_filter = ["status", "ground"]
    search_fields = ["transit__declaration_ref"]
    list_select_related = ["transit", "customs", "proposed_by", "decided_by"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "guarantee", "customs", "status", "claimed", "paid", "examination_due",
                    "overdue_flagged_at"]
    list_filter = ["status", "customs"]
    search_fields = ["number", "transit__declaration_ref", "guarantee__grn", "payment_reference"]
    list_select_related = ["guarantee", "customs"]
    date_hierarchy = "issued_at"

    @admin.display(description=_("amount claimed"), ordering="amount")
    def claimed(self, obj):
        return _fcfa(obj.amount)

    @admin.display(description=_("amount paid"), ordering="paid_amount")
    def paid(self, obj):
        return _fcfa(obj.paid_amount) if obj.paid_amount else "—"


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["transit", "at", "action", "claim", "by"]
    list_filter = ["action"]
    search_fields = ["transit__declaration_ref", "claim__number", "comment"]
    list_select_related = ["transit", "claim", "by"]
    date_hierarchy = "at"
