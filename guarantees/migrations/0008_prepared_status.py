"""A prepared request has its own status ("Prepared — awaiting the checker"); preparations are numbered so a
checker's decision binds to the one she was shown; the maker's notes in the trail are internal to the bank.

Rows already prepared move to the new status as their first preparation; the maker's notes already in the
trail become internal. Reversible: a prepared request goes back to "submitted" with its maker kept, as before.
"""

from django.conf import settings
from django.db import migrations, models


def forwards(apps, schema_editor):
    Guarantee = apps.get_model("guarantees", "Guarantee")
    Amendment = apps.get_model("guarantees", "Amendment")
    GuaranteeEvent = apps.get_model("guarantees", "GuaranteeEvent")
    Guarantee.objects.filter(prepared_by__isnull=False).update(preparation=1)
    Guarantee.objects.filter(status="submitted", prepared_by__isnull=False).update(status="prepared")
    Amendment.objects.filter(prepared_by__isnull=False).update(preparation=1)
    GuaranteeEvent.objects.filter(action__in=["prepared", "amendment_prepared", "sent_back",
                                              "amendment_sent_back"]).update(internal=True)


def backwards(apps, schema_editor):
    Guarantee = apps.get_model("guarantees", "Guarantee")
    Guarantee.objects.filter(status="prepared").update(status="submitted")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_transits_and_api_keys'),
        ('guarantees', '0007_ledger_sealed_and_checkpointed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='amendment',
            name='preparation',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='preparation number'),
        ),
        migrations.AddField(
            model_name='guarantee',
            name='preparation',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='preparation number'),
        ),
        migrations.AddField(
            model_name='guaranteeevent',
            name='internal',
            field=models.BooleanField(default=False, verbose_name='comment internal to the bank'),
        ),
        migrations.AlterField(
            model_name='guarantee',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('submitted', 'Submitted to the bank'), ('prepared', 'Prepared — awaiting the checker'), ('bank_confirmed', 'Confirmed by the bank'), ('active', 'Active'), ('suspended', 'Suspended'), ('expired', 'Expired'), ('cancelled', 'Cancelled'), ('closed', 'Closed'), ('declined', 'Declined by the bank'), ('withdrawn', 'Withdrawn')], db_index=True, default='draft', max_length=20, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='guaranteeevent',
            name='action',
            field=models.CharField(choices=[('created', 'Request created'), ('submitted', 'Submitted to the bank'), ('withdrawn', 'Withdrawn'), ('prepared', 'Prepared by the maker'), ('sent_back', 'Sent back to the maker'), ('confirmed', 'Confirmed by the checker'), ('declined', 'Declined by the bank'), ('accepted', 'Accepted by customs'), ('suspended', 'Suspended'), ('reactivated', 'Reactivated'), ('cancelled', 'Cancelled'), ('expired', 'Expired'), ('closed', 'Closed'), ('amendment_requested', 'Amendment requested'), ('amendment_prepared', 'Amendment prepared'), ('amendment_sent_back', 'Amendment sent back to the maker'), ('amendment_confirmed', 'Amendment confirmed'), ('amendment_declined', 'Amendment declined'), ('amendment_withdrawn', 'Amendment withdrawn'), ('access_code_issued', 'Access code issued'), ('access_code_revoked', 'Access code revoked')], max_length=32, verbose_name='action'),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
        migrations.AddConstraint(
            model_name='amendment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'prepared'), _negated=True), models.Q(('preparation__gt', 0), ('prepared_at__isnull', False), ('prepared_by__isnull', False)), _connector='OR'), name='amendment_prepared_has_maker'),
        ),
        migrations.AddConstraint(
            model_name='guarantee',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'prepared'), _negated=True), models.Q(('preparation__gt', 0), ('prepared_at__isnull', False), ('prepared_by__isnull', False)), _connector='OR'), name='guarantee_prepared_has_maker'),
        ),
        migrations.AddConstraint(
            model_name='guarantee',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'submitted'), _negated=True), ('prepared_by__isnull', True), _connector='OR'), name='guarantee_submitted_not_prepared'),
        ),
    ]
