"""Notifications store their event, values and what they are about; the sentence is worded when read, in the
reader's language, and the page builds the link. Rows written before keep their sentence and link as text
(``stored_*``; ``params`` null) and show as they were written."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("guarantees", "0012_guarantee_actions_merged")]

    operations = [
        migrations.RenameField("notification", "subject", "stored_subject"),
        migrations.RenameField("notification", "body", "stored_body"),
        migrations.RenameField("notification", "url", "stored_url"),
        migrations.AlterField(
            model_name="notification", name="stored_subject",
            field=models.CharField(blank=True, max_length=255, verbose_name="subject as written"),
        ),
        migrations.AlterField(
            model_name="notification", name="stored_body",
            field=models.TextField(blank=True, verbose_name="message as written"),
        ),
        migrations.AlterField(
            model_name="notification", name="stored_url",
            field=models.CharField(blank=True, max_length=500, verbose_name="link as written"),
        ),
        migrations.AddField(
            model_name="notification", name="params",
            field=models.JSONField(blank=True, null=True, verbose_name="values"),
        ),
        migrations.AddField(
            model_name="notification", name="about",
            field=models.CharField(blank=True, choices=[("guarantee", "Guarantee"), ("transit", "Transit"),
                                                        ("enquiry", "Enquiry"), ("release", "Manual release"),
                                                        ("claim", "Claim"), ("reconciliation", "Reconciliation"),
                                                        ("task_failure", "Failed task")],
                                   max_length=20, verbose_name="about"),
        ),
        migrations.AddField(
            model_name="notification", name="about_ref",
            field=models.CharField(blank=True, max_length=100, verbose_name="reference of what it is about"),
        ),
    ]
