"""gunicorn's settings for the registry (caution-web.service, compose.yaml; the command line adds workers and bind).

Metrics: with PROMETHEUS_MULTIPROC_DIR set (a directory shared by the web and worker processes of one host, emptied
at boot: a tmpfs), each worker writes its counters there and /metrics adds them up; a worker that exits is marked
dead so that its live gauges go (its counters stay in the sums, as they should).
"""

import os

# Logs: the application's JSON lines on stderr (config.settings.observability); gunicorn's access log is left to
# nginx, which has the request id ($request_id) and the client's address.
accesslog = None
errorlog = "-"
# A request that takes longer than this is killed with its worker (nginx waits 75 s: deploy/nginx).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Workers are replaced after this many requests (plus jitter), so that a slow leak never grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10


# Imported here, in the master at its start, not when the first worker exits: that import grew the master's memory
# by a step of 2.5 MB at the first replacement (max_requests), which the soak read as +9.5 % drift.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    from prometheus_client import multiprocess
else:
    multiprocess = None


def child_exit(server, worker):
    if multiprocess is not None:
        multiprocess.mark_process_dead(worker.pid)
