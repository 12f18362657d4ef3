"""Celery: Redis broker when REDIS_URL is set; otherwise tasks run in-process, eagerly."""

from config.env import env_str

_redis_url = env_str("REDIS_URL")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _redis_url or "memory://")
CELERY_TASK_ALWAYS_EAGER = _redis_url is None and env_str("CELERY_BROKER_URL") is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE: dict = {}
