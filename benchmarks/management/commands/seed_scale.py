"""``manage.py seed_scale --transits N --guarantees M``: a registry after years of traffic, in a database of its own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caution_bench \\
        python manage.py seed_scale --transits 1000000 --guarantees 10000 [--verify] [--drop]

Like the benchmarks, it works in a database of its own on the server of --database-url (else DATABASE_URL), created
and migrated first: ``<name>_bench_<run id>``. Unlike them it KEEPS that database (that is its point): run
``manage.py benchmark pages --seeded <that name>`` on it, and drop it when done (or pass --drop). PostgreSQL only
(COPY). What is written: ``benchmarks.seed``. Progress on stderr, one JSON object on stdout.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from benchmarks import seed
from benchmarks.common import (
    BenchmarkError,
    add_database_arguments,
    benchmark_database,
    dumps,
)


class Command(BaseCommand):
    requires_system_checks = []
    help = seed.HELP + " Creates its own database (<name>_bench_<run id>) and keeps it unless --drop."

    def add_arguments(self, parser):
        add_database_arguments(parser)
        seed.add_arguments(parser)
        parser.add_argument("--verify", action="store_true",
                            help="Run ledger_verify over every guarantee after seeding (minutes at 1 M transits).")
        parser.add_argument("--drop", action="store_true", help="Drop the database at the end (a trial run).")

    def handle(self, *args, **options):
        def log(message: str) -> None:
            if options.get("verbosity", 1) >= 1:
                self.stderr.write(message)

        settings.DEBUG = False
        import os

        import dj_database_url

        url = options.get("database_url") or os.environ.get("DATABASE_URL") or ""
        if url and not url.startswith(("postgres://", "postgresql://")):
            engine = dj_database_url.parse(url).get("ENGINE", "?").rsplit(".", 1)[-1]
            raise CommandError(
                f"Refusing to seed {engine}: seed_scale writes with PostgreSQL's COPY and measures PostgreSQL's "
                "plans, so it runs on PostgreSQL only. Set DATABASE_URL or --database-url to postgres://..."
            )
        try:
            with benchmark_database(database_url=options.get("database_url"), keep=not options["drop"],
                                    log=log) as db:
                result = seed.seed(
                    transits=options["transits"], guarantees=options["guarantees"], banks=options["banks"],
                    forwarders=options["forwarders"], years=options["years"], seed=options["seed"], log=log,
                )
                if options["verify"]:
                    from guarantees.services.ledger import ledger_verify

                    log("seed: verifying every ledger...")
                    problems = ledger_verify()
                    result["ledger_problems"] = len(problems)
                    if problems:
                        result["ledger_problem_samples"] = [str(p) for p in problems[:5]]
        except (BenchmarkError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        result["database"] = {"name": db["NAME"], "kept": not options["drop"]}
        self.stdout.write(dumps(result))
