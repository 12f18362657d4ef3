"""The embedded default for ``make run``: SQLite, tasks in-process, console e-mail, DEBUG on."""

from importlib.util import find_spec

from config.env import env_bool

from .base import *  # noqa: F401,F403
from .base import INSTALLED_APPS

DEBUG = env_bool("DEBUG", True)

# ``manage.py benchmark`` (development tooling). manage.py defaults to these settings, also inside the production
# image, which leaves the package out (deploy/Dockerfile.dockerignore): its build runs manage.py with them.
if find_spec("benchmarks") is not None:
    INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
