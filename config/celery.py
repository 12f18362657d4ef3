"""The Celery app. Tasks live in each app's ``tasks`` module; the broker is Redis (``REDIS_URL``).

Without ``REDIS_URL`` (the embedded default), tasks run in-process and eagerly, so the site works with
no server but itself.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("caution_unique")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
