#!/bin/sh
# Guichet Famille container entry point: web | worker | beat | migrate | manage ARGS | any command.
set -eu

# prometheus_client multi-process mode: one file per process, emptied at start.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
  mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi

case "${1:-web}" in
  web)
    shift || true
    exec gunicorn --config /app/deploy/gunicorn.conf.py portal.wsgi "$@"
    ;;
  worker)
    shift
    # Counters of the worker's processes are exported on CELERY_METRICS_PORT.
    export CELERY_METRICS_PORT="${CELERY_METRICS_PORT:-9808}"
    exec celery -A portal worker --loglevel="${LOG_LEVEL:-INFO}" \
      --concurrency="${CELERY_CONCURRENCY:-2}" --queues="${CELERY_QUEUES:-celery}" "$@"
    ;;
  beat)
    shift
    # Exactly ONE beat per deployment (compose: one container; helm: replicas 1, Recreate).
    exec celery -A portal beat --loglevel="${LOG_LEVEL:-INFO}" \
      --schedule=/tmp/celerybeat-schedule --pidfile= "$@"
    ;;
  migrate)
    shift
    # Public schema first, then every town's schema (django-tenants).
    python manage.py migrate_schemas --shared --noinput
    exec python manage.py migrate_schemas --tenant --noinput \
      --executor="${MIGRATE_EXECUTOR:-standard}" "$@"
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
