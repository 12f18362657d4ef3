"""Random guarantee numbers for the guarantees numbered before they were random.

Until now a GRN's serial was the guarantee's primary key, so every number could be computed and the public
verification page walked (year + country + 1, 2, 3 …). This migration gives every guarantee whose serial is
its own primary key a new number with a random serial (``guarantees.grn.serial_draw``), unique in the
register, same year and country. Numbers that are not derived from a key (already random, or a benchmark's
``BENCH-…``) are left alone, so running it again changes nothing.

The old numbers are dropped, not kept as aliases: an alias would keep the computed numbers answering, which is
the hole being closed. The register was not live (demo data and tests only), so no number had been given to a
customs system outside.

What the change leaves as it was, and why:

- **Stored certificates are kept, unchanged.** A certificate is a signed document already handed out: its
  bytes, its content snapshot (which prints the old GRN) and its fingerprint are never edited, and an uploaded
  copy keeps matching its SHA-256 in the register, so the verification page still recognises it (by upload;
  its QR code, which carries the old number, now leads to the 404 page). They are marked by a new version:
  a guarantee still in force (active or suspended) whose current version already had a certificate gets a new
  version with the same terms (amount and validity), so that its next certificate prints the new number; the
  old certificate then says *superseded by version N+1*, as after an amendment. Its certificates are rendered
  on the first download (or by the next render task), like any version's. A guarantee closed, cancelled or
  expired keeps its versions: nothing binds on its certificates any more, and an upload still says where it
  stands.
- **Ledger entries are not touched.** The opening entry's ``reference`` printed the old number; entries are
  immutable and hash-chained (the chain covers the reference), so they keep it. The link between the two
  numbers is in the guarantee's history:
- **A ``renumbered`` GuaranteeEvent** is written for every renumbered guarantee, its comment
  ``<old> → <new>``, plus the new version's number when one was created (no author: the registry did it).
- Old notifications keep the number they were written with (they are what was sent).

Reverse: nothing is undone (the random numbers stay; a pk-derived number is what must not come back); the
added choice goes with the schema.
"""

from django.db import IntegrityError, migrations, models, transaction

# Statuses whose certificates still bind at a border: their current certificate is re-issued.
IN_FORCE = ("active", "suspended")
ATTEMPTS = 12


def _derived_from_key(guarantee) -> bool:
    from guarantees.grn import GRN_RE

    match = GRN_RE.match(guarantee.grn or "")
    return bool(match) and int(match["serial"]) == guarantee.pk and match["country"] == guarantee.country_id


def _assign(Guarantee, guarantee, *, year: int) -> str:
    """A fresh random number written on the row (savepoint per try: the unique column is the arbiter)."""
    from guarantees.grn import grn_new

    for _attempt in range(ATTEMPTS):
        candidate = grn_new(year=year, country=guarantee.country_id)
        try:
            with transaction.atomic():
                Guarantee.objects.filter(pk=guarantee.pk).update(grn=candidate)
        except IntegrityError:
            continue
        return candidate
    raise RuntimeError(f"no free reference number for guarantee {guarantee.pk} after {ATTEMPTS} draws")


def renumber(apps, schema_editor):
    Guarantee = apps.get_model("guarantees", "Guarantee")
    GuaranteeVersion = apps.get_model("guarantees", "GuaranteeVersion")
    GuaranteeEvent = apps.get_model("guarantees", "GuaranteeEvent")
    Certificate = apps.get_model("guarantees", "Certificate")
    for guarantee in Guarantee.objects.exclude(grn__isnull=True).order_by("pk").iterator(chunk_size=500):
        if not _derived_from_key(guarantee):
            continue
        old = guarantee.grn
        new = _assign(Guarantee, guarantee, year=int(old[:2]))
        comment = f"{old} → {new}"
        printed = Certificate.objects.filter(guarantee_id=guarantee.pk, number=guarantee.version).exists()
        if guarantee.status in IN_FORCE and printed:
            current = GuaranteeVersion.objects.get(guarantee_id=guarantee.pk, number=guarantee.version)
            number = guarantee.version + 1
            GuaranteeVersion.objects.create(
                guarantee_id=guarantee.pk, number=number, amount=current.amount, valid_from=current.valid_from,
                valid_until=current.valid_until,
            )
            Guarantee.objects.filter(pk=guarantee.pk).update(version=number)
            comment += f" (v{number})"
        GuaranteeEvent.objects.create(
            guarantee_id=guarantee.pk, action="renumbered", from_status=guarantee.status,
            to_status=guarantee.status, comment=comment,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("guarantees", "0009_access_code_alerts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="guaranteeevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("created", "Request created"), ("submitted", "Submitted to the bank"),
                    ("withdrawn", "Withdrawn"), ("prepared", "Prepared by the maker"),
                    ("confirmed", "Confirmed by the checker"), ("declined", "Declined by the bank"),
                    ("accepted", "Accepted by customs"), ("suspended", "Suspended"), ("reactivated", "Reactivated"),
                    ("cancelled", "Cancelled"), ("expired", "Expired"), ("closed", "Closed"),
                    ("amendment_requested", "Amendment requested"), ("amendment_prepared", "Amendment prepared"),
                    ("amendment_confirmed", "Amendment confirmed"), ("amendment_declined", "Amendment declined"),
                    ("amendment_withdrawn", "Amendment withdrawn"), ("access_code_issued", "Access code issued"),
                    ("access_code_revoked", "Access code revoked"), ("renumbered", "Reference number changed"),
                ],
                max_length=32,
                verbose_name="action",
            ),
        ),
        migrations.RunPython(renumber, migrations.RunPython.noop),
    ]
