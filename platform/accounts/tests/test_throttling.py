"""The cache-backed throttle: counts every failure, even in parallel."""

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache

from accounts.rules import ThrottlePolicy
from accounts.throttling import Throttle, client_ip

POLICY = ThrottlePolicy(free=1000, base=30, cap=900)


def test_parallel_failures_are_all_counted():
    throttle = Throttle("test-parallel", POLICY)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: throttle.failure("x"), range(200)))
    assert cache.get(f"{throttle._key('x')}:n") == 200
    throttle.reset("x")
    assert throttle.wait("x") == 0


def test_identifiers_are_not_stored_in_clear():
    throttle = Throttle("test-clear", POLICY)
    throttle.failure("claire.martin@example.org")
    assert "claire" not in throttle._key("claire.martin@example.org")


def test_client_ip_trusts_only_the_configured_proxies(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.1")
    settings.ACCOUNTS_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.1"  # a client-written header is ignored
    settings.ACCOUNTS_TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"  # the address our proxy saw, not the forged one
