"""Every log record carries the town it was written for (JSON field `town`)."""

import logging

from django.db import connection

from core.context import current_town


class TownFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Requests set current_town; Celery tasks run with the town's schema set
        # on the connection by tenant-schemas-celery.
        record.town = current_town.get() or getattr(connection, "schema_name", "public")
        return True
