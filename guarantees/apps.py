from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuaranteesConfig(AppConfig):
    name = "guarantees"
    verbose_name = _("Guarantees")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """The app's receivers, connected once here rather than at any module's import."""
        from django.db.models.signals import post_delete, post_save

        from guarantees import tasks  # noqa: F401  (registers the tasks the services queue by name)
        from guarantees.models import EventRule
        from guarantees.operations import receivers
        from guarantees.web import tables  # noqa: F401  (registers the exportable lists for the export jobs)
        from guarantees.services.events import event_rules_changed

        # A task that fails for good is recorded for the secretariat; a retry that succeeds resolves it.
        receivers.connect()

        # A rule changed by the secretariat takes effect at once in this process (others re-read within 30 s).
        post_save.connect(event_rules_changed, sender=EventRule, dispatch_uid="event-rules-saved")
        post_delete.connect(event_rules_changed, sender=EventRule, dispatch_uid="event-rules-deleted")
