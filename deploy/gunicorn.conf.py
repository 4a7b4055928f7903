"""gunicorn settings for Guichet Famille (container and systemd alike).

Every value can be overridden from the environment (GUNICORN_CMD_ARGS too).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers: Django's ORM is synchronous; 2 per core + 1 is gunicorn's advice,
# capped because each worker keeps one PostgreSQL connection per town request.
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = 5
# The application (settings, URLconfs and every view module, the hot templates,
# the school holidays: portal/warmup.py) is loaded once in the master and forked:
# a worker started or recycled during an opening answers its first request in
# milliseconds instead of a second. The warm-up opens no database connection.
preload_app = True
# Recycle workers now and then: bounded memory (per-town caches, fragmentation).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Heartbeat files in RAM: a container's disk may be slow or read-only.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")
# Only the reverse proxy (nginx, the ingress controller) talks to gunicorn.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "guichet-web"


def child_exit(server, worker):
    """prometheus_client multi-process mode: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
