"""``manage.py benchmark <name>``: run one of the benchmarks of ``benchmarks`` and print one JSON object.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caution_bench \\
        python manage.py benchmark holds --clients 16 --seconds 20 [--hot] [--guarantees 1000]

Progress goes to stderr, the result (one JSON object) to stdout.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import benchmarks
from benchmarks.common import (
    DEFAULT_DATABASE_URL,
    BenchmarkError,
    add_database_arguments,
    dumps,
    prepare_database,
)


class Command(BaseCommand):
    # The benchmark touches models and services only; URL/admin checks would add nothing but start-up time.
    requires_system_checks = []
    help = (
        "Run a benchmark and print its result as one JSON object on stdout. Runs on PostgreSQL only: "
        "--database-url, else the DATABASE_URL environment variable, else "
        f"{DEFAULT_DATABASE_URL}; that database is created if missing and migrated first "
        "(--use-default-db runs on Django's current default connection as it is). "
        f"Benchmarks: {', '.join(benchmarks.names())}. See 'manage.py benchmark <name> --help'."
    )

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="benchmark", metavar="NAME", required=True)
        for name in benchmarks.names():
            module = benchmarks.load(name)
            sub = subparsers.add_parser(name, help=module.HELP, description=(module.__doc__ or module.HELP))
            add_database_arguments(sub)
            module.add_arguments(sub)

    def handle(self, *args, benchmark, **options):
        module = benchmarks.load(benchmark)

        def log(message: str) -> None:
            if options.get("verbosity", 1) >= 1:
                self.stderr.write(message)

        # DEBUG (on in the local settings) makes Django keep every query in memory: not what production runs.
        settings.DEBUG = False
        try:
            prepare_database(
                database_url=options.get("database_url"), use_default_db=options.get("use_default_db", False), log=log
            )
            result = module.run(options, log=log)
        except (BenchmarkError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(dumps(result))
