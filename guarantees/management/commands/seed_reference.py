"""``manage.py seed_reference``: load the reference data (countries, offices, corridors, levies, tariff)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_lazy as _

from guarantees.reference.importer import DEFAULT_DIRECTORY, ReferenceImportError, reference_import


class Command(BaseCommand):
    help = _(
        "Load the reference data from the CSV files (countries, customs offices, corridors, levies, HS → TEC "
        "band tariff), keeping each row's source. Rows are matched on their natural key. By default "
        "(--keep-edited) missing rows are created and existing rows are left untouched, so values the "
        "secretariat changed in the admin survive a re-seed; --update overwrites existing rows with the values "
        "of the files. Rows are never deleted. Running it twice changes nothing the second time."
    )

    def add_arguments(self, parser):
        # argparse needs plain strings: the lazy texts are rendered in the active language here.
        parser.description = str(self.help)
        parser.add_argument(
            "--directory",
            default=None,
            help=str(_("Folder holding the five CSV files (default: %(default_dir)s).") % {"default_dir": DEFAULT_DIRECTORY})
            .replace("%", "%%"),
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--keep-edited",
            dest="update",
            action="store_false",
            help=str(_("Default: create missing rows only; existing rows keep their values.")),
        )
        mode.add_argument(
            "--update",
            dest="update",
            action="store_true",
            help=str(_("Overwrite existing rows with the values of the files (undoes edits made in the admin).")),
        )
        parser.set_defaults(update=False)

    def handle(self, *args, directory=None, update=False, **options):
        try:
            counts = reference_import(directory=directory, update=update)
        except ReferenceImportError as exc:
            raise CommandError(str(exc)) from exc
        for table, outcome in counts.items():
            self.stdout.write(
                _("%(table)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(kept)d kept as edited")
                % {"table": table, **outcome}
            )
        self.stdout.write(self.style.SUCCESS(_("Reference data loaded.")))
