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
        state = cache.get(self._key(ident))
        if not state:
            return 0
        return seconds_left(state["n"], state["t"], time.time(), self.policy)

    def failure(self, ident: str) -> None:
        key = self._key(ident)
        state = cache.get(key) or {"n": 0, "t": 0.0}
        now = time.time()
        if now - state["t"] >= self.policy.forget_after:
            state = {"n": 0, "t": 0.0}
        cache.set(key, {"n": state["n"] + 1, "t": now}, timeout=self.policy.forget_after)

    def reset(self, ident: str) -> None:
        cache.delete(self._key(ident))


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
