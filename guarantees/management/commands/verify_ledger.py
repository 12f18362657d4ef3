"""``manage.py verify_ledger``: recompute every balance from the ledger and walk every hash chain.

Exits non-zero, naming the guarantee and the entry, when something was changed or deleted behind the
application's back.
"""

from django.core.management.base import BaseCommand

from guarantees.models import Guarantee
from guarantees.services.ledger import ledger_verify


class Command(BaseCommand):
    help = "Check that every guarantee's balances equal the sum of its ledger entries and that the chain is intact."

    def add_arguments(self, parser):
        parser.add_argument("--grn", help="Check only this guarantee.")

    def handle(self, *args, grn=None, **options):
        guarantees = Guarantee.objects.all()
        if grn:
            guarantees = guarantees.filter(grn=grn)
        problems = ledger_verify(guarantees=guarantees)
        checked = guarantees.count()
        if problems:
            for problem in problems:
                self.stderr.write(f"LEDGER PROBLEM: {problem}")
            self.stderr.write(f"{len(problems)} problem(s) in {checked} guarantee(s).")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"Ledger intact: {checked} guarantee(s) checked."))
