"""Cache-backed failure counters with growing delays (rules.ThrottlePolicy).

The cache's keys already carry the town's schema (settings.CACHES), so a
counter of Castres never slows Bondoufle. Identifiers are hashed: no e-mail
address or key prefix is written to Redis in clear.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from accounts.rules import ThrottlePolicy, seconds_left


class Throttle:
    def __init__(self, scope: str, policy: ThrottlePolicy) -> None:
        self.scope = scope
        self.policy = policy

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(f"{self.scope}:{ident}".encode()).hexdigest()[:32]
        return f"accounts:throttle:{self.scope}:{digest}"

    def wait(self, ident: str) -> int:
        """Seconds before `ident` may try again (0: now)."""
        key = self._key(ident)
        state = cache.get_many([f"{key}:n", f"{key}:t"])
        failures, last = state.get(f"{key}:n"), state.get(f"{key}:t")
        if not failures or last is None:
            return 0
        return seconds_left(int(failures), float(last), time.time(), self.policy)

    def failure(self, ident: str) -> None:
        """Count one failure. The count is an atomic INCR (parallel attempts
        are all counted); the time of the last failure starts the wait."""
        key, ttl = self._key(ident), self.policy.forget_after
        cache.add(f"{key}:n", 0, timeout=ttl)
        try:
            cache.incr(f"{key}:n")
        except ValueError:  # expired between add and incr
            cache.set(f"{key}:n", 1, timeout=ttl)
        cache.touch(f"{key}:n", ttl)
        cache.set(f"{key}:t", time.time(), timeout=ttl)

    def reset(self, ident: str) -> None:
        key = self._key(ident)
        cache.delete_many([f"{key}:n", f"{key}:t"])


def client_ip(request) -> str:
    """The client's address. Behind N trusted reverse proxies, the N-th address
    from the right of X-Forwarded-For (the ones to its left are client-chosen)."""
    proxies = settings.ACCOUNTS_TRUSTED_PROXIES
    if proxies:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def first_wait(*checks: tuple[Throttle, str]) -> int:
    """The longest wait among (throttle, identifier) pairs."""
    return max((t.wait(i) for t, i in checks), default=0)
