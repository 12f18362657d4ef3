from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Development tooling, never shipped: installed by the local and test settings only, and left out of the
    production image (deploy/Dockerfile.dockerignore). It has no models: each run works in a database of its
    own (``benchmarks.common.benchmark_database``)."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
