"""A monthly statement per language: unique per (guarantee, month, language) instead of (guarantee, month).

The statements stored so far keep their language (French, the only one they were issued in); the other languages
of their months are issued when a reader asks for them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('guarantees', '0050_amendment_started_by_bank'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='statement',
            name='statement_one_per_guarantee_month',
        ),
        migrations.AddConstraint(
            model_name='statement',
            constraint=models.UniqueConstraint(fields=('guarantee', 'month', 'language'),
                                               name='statement_one_per_guarantee_month_language'),
        ),
    ]
