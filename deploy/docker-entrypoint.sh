#!/bin/sh
# Guichet Famille container entry point:
#   web | worker | beat | migrate | backup | backup-daily | check | manage ARGS | any command.
set -eu

# Production settings refuse to start without their secrets (portal.settings.prod);
# the deploy check refuses the rest (unsafe settings, missing payment secrets...).
deploy_check() {
  python manage.py check --deploy --fail-level WARNING
}

# prometheus_client multi-process mode: one file per process, emptied at start.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
  mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi

case "${1:-web}" in
  web)
    shift || true
    deploy_check
    exec gunicorn --config /app/deploy/gunicorn.conf.py portal.wsgi "$@"
    ;;
  worker)
    shift
    deploy_check
    # Counters of the worker's processes are exported on CELERY_METRICS_PORT.
    export CELERY_METRICS_PORT="${CELERY_METRICS_PORT:-9808}"
    exec celery -A portal worker --loglevel="${LOG_LEVEL:-INFO}" \
      --concurrency="${CELERY_CONCURRENCY:-2}" --queues="${CELERY_QUEUES:-celery}" "$@"
    ;;
  beat)
    shift
    deploy_check
    # Exactly ONE beat per deployment (compose: one container; helm: replicas 1, Recreate).
    exec celery -A portal beat --loglevel="${LOG_LEVEL:-INFO}" \
      --schedule=/tmp/celerybeat-schedule --pidfile= "$@"
    ;;
  migrate)
    shift
    deploy_check
    # Public schema first, then only the towns that are behind, in parallel, one
    # line per town, then the town template is refreshed (docs/operations.md).
    python manage.py migrate_schemas --shared --noinput
    exec python manage.py migrate_towns --workers="${MIGRATE_WORKERS:-2}" "$@"
    ;;
  backup)
    shift
    # One archive per town (schema, public rows, media) in BACKUP_DIR, the
    # BACKUP_KEEP newest kept per town (docs/operations.md, Backups).
    exec python manage.py backup_town --all --dir="${BACKUP_DIR:-/var/lib/guichet/backups}" \
      --keep="${BACKUP_KEEP:-7}" "$@"
    ;;
  backup-daily)
    shift
    # compose's `backup` service: `backup` every day at BACKUP_AT (HH:MM, the
    # container's time zone, UTC unless TZ is set). A failed night is logged and
    # retried the next day; the helm chart uses a CronJob, systemd a timer.
    while true; do
      now=$(date +%s)
      at=$(date -d "${BACKUP_AT:-02:30}" +%s)
      if [ "$at" -le "$now" ]; then at=$((at + 86400)); fi
      sleep $((at - now))
      python manage.py backup_town --all --dir="${BACKUP_DIR:-/var/lib/guichet/backups}" \
        --keep="${BACKUP_KEEP:-7}" "$@" || echo "backup_town: échec, voir ci-dessus" >&2
    done
    ;;
  check)
    shift
    exec python manage.py check --deploy --fail-level WARNING "$@"
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
