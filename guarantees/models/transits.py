"""Transits declared by customs systems, the events they report, and bulk discharge files.

A transit takes a hold on its guarantee when declared and gives it back when discharged or cancelled. Every
message received is stored before it is answered (``TransitEvent``), keyed by the sender's own message id,
so a replay changes nothing and nothing received is ever dropped: an event for a declaration not yet
received waits, and is applied when the declaration arrives.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TransitStatus(models.TextChoices):
    DECLARED = "declared", pgettext_lazy("transit status", "Declared")
    IN_TRANSIT = "in_transit", pgettext_lazy("transit status", "In transit")
    ARRIVED = "arrived", pgettext_lazy("transit status", "Arrived")
    DISCHARGED = "discharged", pgettext_lazy("transit status", "Discharged")
    CANCELLED = "cancelled", pgettext_lazy("transit status", "Cancelled")
    OVERDUE = "overdue", pgettext_lazy("transit status", "Overdue")
    CLAIMED = "claimed", pgettext_lazy("transit status", "Claimed")
    SETTLED = "settled", pgettext_lazy("transit status", "Settled")


OPEN_TRANSIT_STATUSES = (TransitStatus.DECLARED, TransitStatus.IN_TRANSIT, TransitStatus.ARRIVED, TransitStatus.OVERDUE)


class AmountSource(models.TextChoices):
    DECLARED = "declared", pgettext_lazy("amount source", "Sent by the customs system")
    COMPUTED = "computed", pgettext_lazy("amount source", "Computed from the goods")


class Transit(models.Model):
    declaration_ref = models.CharField(_("declaration reference"), max_length=64, unique=True)
    guarantee = models.ForeignKey(
        "guarantees.Guarantee", verbose_name=_("guarantee"), on_delete=models.PROTECT, related_name="transits"
    )
    hold = models.OneToOneField(
        "guarantees.Hold", verbose_name=_("hold"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="transit",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TransitStatus.choices, default=TransitStatus.DECLARED, db_index=True
    )
    office_of_departure = models.ForeignKey(
        "guarantees.Office", verbose_name=_("office of departure"), on_delete=models.PROTECT, related_name="+"
    )
    office_of_destination = models.ForeignKey(
        "guarantees.Office", verbose_name=_("office of destination"), on_delete=models.PROTECT, related_name="+"
    )
    corridor = models.ForeignKey(
        "guarantees.Corridor", verbose_name=_("corridor"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="transits",
    )
    declared_at = models.DateTimeField(_("declared at"))
    deadline = models.DateTimeField(_("time limit"), db_index=True)
    amount_held = models.BigIntegerField(_("amount held at departure"))
    amount_source = models.CharField(_("amount source"), max_length=10, choices=AmountSource.choices)
    amount_breakdown = models.JSONField(_("amount at stake, by country"), default=dict, blank=True)
    goods = models.JSONField(_("goods"), default=list, blank=True)
    transport = models.JSONField(_("transport"), default=dict, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    declared_by = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("declared by"), on_delete=models.PROTECT, related_name="+"
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    declared_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("discharged at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)

    class Meta:
        verbose_name = _("transit")
        verbose_name_plural = _("transits")
        ordering = ["-declared_at"]
        indexes = [
            models.Index(fields=["guarantee", "status"]),
            models.Index(fields=["status", "deadline"]),
            # Lists are newest first: a page of a large list reads the first rows of this index.
            models.Index(fields=["-declared_at", "-id"], name="transit_newest_first"),
            # The open ones (a few percent of all), newest first: the "overdue" and status filters walk this.
            models.Index(fields=["-declared_at", "-id"], name="transit_open_newest_first",
                         condition=Q(status__in=["declared", "in_transit", "arrived", "overdue"])),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_held__gt=0), name="transit_amount_positive"),
            models.CheckConstraint(condition=Q(deadline__gt=models.F("declared_at")), name="transit_deadline_after"),
        ]

    def __str__(self) -> str:
        return self.declaration_ref

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TRANSIT_STATUSES


class StopRole(models.TextChoices):
    DEPARTURE = "departure", pgettext_lazy("route stop", "Departure")
    BORDER = "border", pgettext_lazy("route stop", "Border")
    DESTINATION = "destination", pgettext_lazy("route stop", "Destination")


class TransitStop(models.Model):
    """The route in order: departure, each border office, destination. Customs of every country on it see it."""

    transit = models.ForeignKey(Transit, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField()
    office = models.ForeignKey("guarantees.Office", on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey("guarantees.Country", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=12, choices=StopRole.choices)

    class Meta:
        ordering = ["transit_id", "position"]
        constraints = [models.UniqueConstraint(fields=["transit", "position"], name="transit_stop_unique_position")]
        indexes = [models.Index(fields=["country", "transit"]), models.Index(fields=["office", "transit"])]


class EventType(models.TextChoices):
    BORDER_EXIT = "border_exit", pgettext_lazy("transit event", "Border exit")
    BORDER_ENTRY = "border_entry", pgettext_lazy("transit event", "Border entry")
    ARRIVAL = "arrival", pgettext_lazy("transit event", "Arrival")
    DISCHARGE = "discharge", pgettext_lazy("transit event", "Discharge")
    PARTIAL_DISCHARGE = "partial_discharge", pgettext_lazy("transit event", "Partial discharge")
    CANCELLATION = "cancellation", pgettext_lazy("transit event", "Cancellation")


class EventStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("event status", "Received, to apply")
    WAITING = "waiting", pgettext_lazy("event status", "Waiting for its declaration")
    APPLIED = "applied", pgettext_lazy("event status", "Applied")
    # Kept, never applied: the sender may not report it, or it cannot apply (guarantees.services.events).
    REJECTED = "rejected", pgettext_lazy("event status", "Refused")


class EventSender(models.TextChoices):
    """Which administration may send an event of a given type (``EventRule.sender``)."""

    DECLARING = "declaring", pgettext_lazy("event sender", "The administration that declared the transit")
    DESTINATION = "destination", pgettext_lazy("event sender", "The administration of the destination country")
    ROUTE = "route", pgettext_lazy("event sender", "The administration of a border office on the route")


class EventPlace(models.TextChoices):
    """At which office an event of a given type may be reported (``EventRule.place``)."""

    DEPARTURE_OFFICE = "departure_office", pgettext_lazy("event place", "The office of departure")
    DEPARTURE_COUNTRY = "departure_country", pgettext_lazy("event place", "Any office of the departure country")
    DESTINATION_OFFICE = "destination_office", pgettext_lazy("event place", "The office of destination")
    DESTINATION_COUNTRY = "destination_country", pgettext_lazy(
        "event place", "Any office of the destination country")
    ROUTE_BORDER = "route_border", pgettext_lazy("event place", "A border office on the transit's route")


# Who may report what, where: the registry's rule until the secretariat changes a row of ``EventRule``. The API
# documentation states this table.
DEFAULT_EVENT_RULES: dict[str, tuple[str, str]] = {
    EventType.BORDER_EXIT: (EventSender.ROUTE, EventPlace.ROUTE_BORDER),
    EventType.BORDER_ENTRY: (EventSender.ROUTE, EventPlace.ROUTE_BORDER),
    EventType.ARRIVAL: (EventSender.DESTINATION, EventPlace.DESTINATION_OFFICE),
    EventType.DISCHARGE: (EventSender.DESTINATION, EventPlace.DESTINATION_OFFICE),
    EventType.PARTIAL_DISCHARGE: (EventSender.DESTINATION, EventPlace.DESTINATION_OFFICE),
    EventType.CANCELLATION: (EventSender.DECLARING, EventPlace.DEPARTURE_OFFICE),
}


class EventRule(models.Model):
    """Who may report one type of transit event, and where: reference data kept by the secretariat.

    An event is applied only when its sender and its office both fit the rule of its type, checked when it is
    received, when a waiting event meets its declaration and again when it is applied. The secretariat edits the
    rows in the administration (for example to accept a discharge at any office of the destination country);
    a type without a row follows ``DEFAULT_EVENT_RULES``.
    """

    event_type = models.CharField(_("event type"), max_length=20, choices=EventType.choices, unique=True)
    sender = models.CharField(_("who may send it"), max_length=12, choices=EventSender.choices)
    place = models.CharField(_("where"), max_length=20, choices=EventPlace.choices)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("transit event rule")
        verbose_name_plural = _("transit event rules")
        ordering = ["event_type"]

    def __str__(self) -> str:
        return str(EventType(self.event_type).label)


class TransitEvent(models.Model):
    """One message from a customs system (or an officer) about a transit, kept as received."""

    sender = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("sender"), on_delete=models.PROTECT, related_name="+"
    )
    message_id = models.CharField(_("message id"), max_length=100)
    declaration_ref = models.CharField(_("declaration reference"), max_length=64, db_index=True)
    transit = models.ForeignKey(Transit, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    type = models.CharField(_("type"), max_length=20, choices=EventType.choices)
    office = models.ForeignKey("guarantees.Office", verbose_name=_("office"), on_delete=models.PROTECT,
                               related_name="+")
    occurred_at = models.DateTimeField(_("occurred at"))
    amount_released = models.BigIntegerField(_("amount released"), null=True, blank=True)
    payload = models.JSONField(_("message as received"), default=dict)
    content_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED, db_index=True
    )
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_detail = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    received_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bulk_job = models.ForeignKey(
        "guarantees.DischargeFile", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transit event")
        verbose_name_plural = _("transit events")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "message_id"], name="transit_event_unique_message"),
            models.CheckConstraint(
                condition=Q(amount_released__isnull=True) | Q(amount_released__gt=0),
                name="transit_event_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_ref} {self.type} ({self.message_id})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("job status", "Queued")
    RUNNING = "running", pgettext_lazy("job status", "Running")
    DONE = "done", pgettext_lazy("job status", "Done")
    FAILED = "failed", pgettext_lazy("job status", "Failed")


class DischargeFile(models.Model):
    """A bulk file of discharge events (a customs system's daily export), processed in the background."""

    sender = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=200)
    format = models.CharField(_("format"), max_length=4, choices=[("csv", "CSV"), ("json", "JSON")])
    content = models.BinaryField(_("content"))
    status = models.CharField(
        _("status"), max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField(_("lines"), default=0)
    done = models.PositiveIntegerField(_("lines accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("lines already received"), default=0)
    failed = models.PositiveIntegerField(_("lines refused"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("discharge file")
        verbose_name_plural = _("discharge files")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename
