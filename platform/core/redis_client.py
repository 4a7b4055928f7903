"""One Redis client per address and timeout in each process: its connection
pool is kept, so a request reuses an open connection instead of connecting,
negotiating and closing each time (the waiting room's status fragment made
three connections a poll before). redis-py's pool notices a fork and opens
new connections in the child (gunicorn workers)."""

from __future__ import annotations

from functools import cache

import redis


@cache
def client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
