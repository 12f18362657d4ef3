"""``manage.py certificate_devkey``: create the self-signed development key that signs certificates, if missing.

Writes ``CERTIFICATE_PKCS12_PATH`` (signing key + certificate, encrypted with
``CERTIFICATE_PKCS12_PASSPHRASE``) and ``CERTIFICATE_TRUST_ROOTS_PATH`` (the root, PEM). Does nothing when both
exist (``--force`` replaces them: certificates signed before then no longer verify as trusted). ``make run``
calls it; production uses a real key and never this command.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from guarantees.documents.devcert import devcert_create


class Command(BaseCommand):
    def _offline_key(self):
        """The development key of offline verification (QR payloads, status list), never replaced: what it signed
        must keep verifying."""
        from guarantees.documents.offline_keys import devkey_create

        path = Path(settings.OFFLINE_SIGNING_KEY_PATH)
        if path.exists() or str(path) != settings.OFFLINE_DEV_KEY_PATH:
            return
        devkey_create(path)
        self.stdout.write(self.style.WARNING(f"Created a DEVELOPMENT offline signing key (P-256): {path}"))

    help = "Create the self-signed development key and root for signing certificates, unless they exist."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Replace an existing key and root.")

    def handle(self, *args, force=False, **options):
        self._offline_key()
        p12 = Path(settings.CERTIFICATE_PKCS12_PATH)
        root = Path(settings.CERTIFICATE_TRUST_ROOTS_PATH)
        if p12.exists() and root.exists() and not force:
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"Certificate signing key already present: {p12}")
            return
        if p12.exists() != root.exists() and not force:
            missing = root if p12.exists() else p12
            raise CommandError(
                f"{missing} is missing but its pair exists: a new root would not match the key. "
                "Use --force to create both again."
            )
        passphrase = settings.CERTIFICATE_PKCS12_PASSPHRASE
        if not passphrase:
            raise CommandError("CERTIFICATE_PKCS12_PASSPHRASE is empty.")
        key = devcert_create(pkcs12_path=p12, root_path=root, passphrase=passphrase)
        self.stdout.write(
            self.style.WARNING(f"Created a self-signed DEVELOPMENT signing key: {p12} (root: {root}). ")
            + f"Signer: {key.subject}"
        )
