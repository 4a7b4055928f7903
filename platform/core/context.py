"""Request/task context shared by logs, Sentry and helpers."""

from contextvars import ContextVar

# Slug of the town the current request or task runs for ("" = platform).
current_town: ContextVar[str] = ContextVar("current_town", default="")
