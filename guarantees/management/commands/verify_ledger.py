"""``manage.py verify_ledger``: every entry's seal, every chain, every balance, the signed checkpoints.

Exits 1, naming the guarantee and the entry, when something was changed, inserted or deleted behind the
application's back; then prints, in any case, what the check could not prove (entries after the latest
checkpoint rest on the MAC key alone, and so on). ``--checkpoint FILE`` (repeatable) also checks the ledger
against checkpoints downloaded earlier and kept outside the registry.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from guarantees.models import Guarantee
from guarantees.services.checkpoints import ledger_audit


class Command(BaseCommand):
    help = ("Check every ledger entry's seal, every chain, every balance and the signed checkpoints; say what "
            "cannot be proven.")

    def add_arguments(self, parser):
        parser.add_argument("--grn", help="Check only this guarantee.")
        parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                            help="A checkpoint downloaded from the registry and kept elsewhere (repeatable).")

    def handle(self, *args, grn=None, checkpoint=(), **options):
        guarantees = Guarantee.objects.all()
        if grn:
            guarantees = guarantees.filter(grn=grn)
        external = []
        for path in checkpoint:
            try:
                with open(path, encoding="utf-8") as handle:
                    external.append(json.load(handle))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read the checkpoint {path}: {exc}") from exc
        audit = ledger_audit(guarantees=guarantees if grn else None, external=external)
        for problem in audit.problems:
            self.stderr.write(f"LEDGER PROBLEM: {problem}")
        for note in audit.unproven:
            self.stdout.write(f"NOT PROVEN: {note}")
        if audit.problems:
            self.stderr.write(f"{len(audit.problems)} problem(s) in {audit.guarantees} guarantee(s).")
            raise SystemExit(1)
        where = (f"; latest checkpoint {audit.checkpoint.created_at:%Y-%m-%d %H:%M:%S} UTC verified"
                 if audit.checkpoint else "")
        self.stdout.write(self.style.SUCCESS(f"Ledger intact: {audit.guarantees} guarantee(s) checked{where}."))
