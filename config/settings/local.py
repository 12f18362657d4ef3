"""The embedded default for ``make run``: SQLite, tasks in-process, console e-mail, DEBUG on."""

from config.env import env_bool

from .base import *  # noqa: F401,F403

DEBUG = env_bool("DEBUG", True)
