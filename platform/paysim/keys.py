"""The simulator's demo keys (published: they protect nothing real)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

# PayZen / Systempay "clé de test" of every demo shop.
PAYZEN_KEY = "DemoKeyGuichetFamille0123"
# Paybox HMAC key (hex, as Paybox's back office shows it) of every demo shop.
PAYBOX_HMAC_HEX = "0123456789ABCDEF" * 8
# Which demo key each provider's secret option gets (rundemo sets the towns'
# secret environment variables to these when they are unset).
SECRETS = {
    "secret_test": PAYZEN_KEY,
    "secret_production": PAYZEN_KEY,
    "shared_secret": PAYBOX_HMAC_HEX,
}
PATH = "/simulateur-paiement/"


@cache
def paybox_private_key():
    """The demo RSA key the simulator signs Paybox answers with (the real
    Paybox signs with its own; eopayment ships its public half)."""
    # Optional library (pycryptodomex, the payment simulator's signatures): loaded when used.
    from Cryptodome.PublicKey import RSA

    return RSA.import_key((Path(__file__).parent / "demo_paybox_key.pem").read_bytes())


def paybox_public_key_pem() -> str:
    return paybox_private_key().publickey().export_key().decode()


def simulator_url(site_url: str) -> str:
    return site_url.rstrip("/") + PATH
