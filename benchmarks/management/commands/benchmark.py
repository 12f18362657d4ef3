"""``manage.py benchmark <name>``: run one of the benchmarks of ``benchmarks`` and print one JSON object.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caution_bench \\
        python manage.py benchmark holds --clients 16 --seconds 20 [--hot] [--guarantees 1000] [--keep]

Each run works in a database of its own, created on that server and dropped at the end (``--keep`` keeps it).
Progress goes to stderr, the result (one JSON object) to stdout.
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import benchmarks
from benchmarks.common import (
    DEFAULT_DATABASE_URL,
    BenchmarkError,
    add_database_arguments,
    benchmark_database,
    dumps,
    seeded_database,
)


class _Stopped(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that the run's processes stop and its database is dropped."""


class Command(BaseCommand):
    # The benchmark touches models and services only; URL/admin checks would add nothing but start-up time.
    requires_system_checks = []
    help = (
        "Run a benchmark and print its result as one JSON object on stdout. Runs on PostgreSQL only, on the "
        f"server of --database-url, else of the DATABASE_URL environment variable, else of {DEFAULT_DATABASE_URL}, "
        "in a database of the run's own (<name>_bench_<run id>) created and migrated first and dropped at the end "
        "(--keep keeps it). "
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
        keep = options.get("keep", False)
        try:
            if options.get("seeded"):  # a benchmark reading a kept database (benchmark pages --seeded NAME)
                database = seeded_database(name=options["seeded"], database_url=options.get("database_url"), log=log)
                keep = True
            else:
                database = benchmark_database(database_url=options.get("database_url"), keep=keep, log=log)
            with _stopped_by_signals(), database as db:
                result = module.run(options, log=log)
        except (BenchmarkError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except _Stopped as exc:
            raise CommandError(f"Stopped by signal {exc.args[0]}.", returncode=128 + exc.args[0]) from None
        result["database"] = {"name": db["NAME"], "kept": keep}
        self.stdout.write(dumps(result))


class _stopped_by_signals:
    """SIGTERM and SIGHUP raise ``_Stopped`` in the main thread while the run lasts (Ctrl-C raises
    KeyboardInterrupt already); Python's default for them ends the process without unwinding."""

    SIGNALS = (signal.SIGTERM, signal.SIGHUP)

    def __enter__(self):
        self.saved = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.saved[signum] = signal.signal(signum, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise _Stopped(signum)

    def __exit__(self, *exc):
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)
        return False
