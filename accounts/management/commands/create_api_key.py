"""``manage.py create_api_key --country BF --name "SIDONIA BF"``: issue a key to a customs administration.

The key is printed once on standard output (nothing else goes there, so it can be piped into a secret store);
only its hash is kept.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.api_keys import api_key_create
from accounts.models import Organisation
from accounts.roles import OrganisationKind


class Command(BaseCommand):
    help = "Issue an API key to the customs administration of a country and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="ISO code of the country (BF, ML, NE, TG).")
        parser.add_argument("--name", required=True, help='A name for the key, e.g. "SIDONIA BF".')

    def handle(self, *args, country: str, name: str, **options):
        code = country.strip().upper()
        organisation = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=code).first()
        if organisation is None:
            raise CommandError(f"No customs administration is registered for the country {code!r}.")
        if not organisation.is_active:
            raise CommandError(f"The customs administration of {code} is deactivated.")
        if not name.strip():
            raise CommandError("The key needs a name.")
        api_key, raw = api_key_create(organisation=organisation, name=name)
        self.stdout.write(raw)
        self.stderr.write(
            f"API key {api_key.prefix} issued to {organisation} ({code}) as {api_key.name!r}. "
            "Store it now: it is not shown again."
        )
