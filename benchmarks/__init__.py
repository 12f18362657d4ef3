"""Benchmarks run by ``manage.py benchmark <name>``: one module per benchmark, listed in ``REGISTRY``.

A benchmark module exposes:

* ``HELP`` — one line shown by ``manage.py benchmark --help``;
* ``add_arguments(parser)`` — its own options (the database options of ``common`` are added for it);
* ``run(options, *, log) -> dict`` — does the work on the database the command prepared and returns the
  result, printed by the command as one JSON object.

To add a benchmark (api, releases, certificates...), write ``benchmarks/<name>.py`` and add a
line here.
"""

from importlib import import_module
from types import ModuleType

REGISTRY: dict[str, str] = {
    "api": "benchmarks.api",
    "holds": "benchmarks.holds",
    "pages": "benchmarks.pages",
    "certificates": "benchmarks.certificates",
    "releases": "benchmarks.releases",
    "soak": "benchmarks.soak",
}


def names() -> list[str]:
    return sorted(REGISTRY)


def load(name: str) -> ModuleType:
    try:
        path = REGISTRY[name]
    except KeyError:
        raise LookupError(f"Unknown benchmark {name!r}; known: {', '.join(names())}.") from None
    return import_module(path)
