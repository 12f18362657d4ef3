"""Seed a few public holidays per covered country (2026, illustrative) for the working-day deadlines.

Idempotent: only missing rows are created, so the secretariat's corrections in the admin survive a re-run.
Run after ``seed_reference`` (the countries must exist).
"""

from django.core.management.base import BaseCommand

from guarantees.reference.holidays import holidays_seed


class Command(BaseCommand):
    help = "Create the illustrative 2026 public holidays of Burkina Faso, Mali, Niger and Togo (missing rows only)."

    def handle(self, *args, **options):
        created = holidays_seed()
        self.stdout.write(self.style.SUCCESS(f"{created} public holiday(s) created."))
