"""The Celery app: configured from Django's settings (``CELERY_*``), tasks found in each app's ``tasks`` module,
the broker Redis (``REDIS_URL``). Without ``REDIS_URL`` (the embedded default), tasks run in-process and eagerly,
so the site works with no server but itself.

Only wiring here: every task's base class (``guarantees.queue.RegistryTask``: a broker that just failed is left
alone for a few seconds) is named by its path, and the receivers of Celery's signals are connected by the
guarantees app when it loads.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("caution_unique", task_cls="guarantees.queue:RegistryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The default app of every thread (a request served by a thread of its own finds its tasks by name through it).
app.set_default()
