"""The simulator's pages: one per provider protocol (see paysim/__init__.py).

Written from the providers' documentation, independently of eopayment and of
our billing code: what the bank's side does, checked by what OUR side accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.access import POST, PUBLIC, access

from . import keys

# What the page's two buttons answer, per provider.
PAYZEN_RESULTS = {
    "pay": {"vads_result": "00", "vads_auth_result": "00", "vads_trans_status": "AUTHORISED"},
    "refuse": {"vads_result": "05", "vads_auth_result": "05", "vads_trans_status": "REFUSED"},
    "cancel": {"vads_result": "17", "vads_auth_result": "", "vads_trans_status": "ABANDONED"},
}
PAYBOX_ERRORS = {"pay": "00000", "refuse": "00021", "cancel": "00001"}
# PBX_RETOUR's variables, in the order Paybox signs them (our adapter asks for these).
PAYBOX_RETOUR = (
    ("montant", "M"),
    ("reference", "R"),
    ("code_autorisation", "A"),
    ("erreur", "E"),
    ("numero_appel", "T"),
    ("numero_transaction", "S"),
    ("date_transaction", "W"),
    ("heure_transaction", "Q"),
)


def _enabled() -> None:
    if not getattr(settings, "PAYMENT_SIMULATOR", False):
        raise Http404


def _bad(message: str):
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _ours(request, url: str) -> bool:
    """The simulator only calls back the site it is served by (no SSRF)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == request.get_host()


def _post_to(url: str, body: str) -> None:
    """The provider's server-to-server call. A failure is what a real provider
    meets too: the return page then says the payment awaits confirmation."""
    try:
        request = urllib.request.Request(
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=15):
            pass
    except OSError:
        pass


def _page(request, *, provider, amount_cents, reference, fields, action):
    try:
        amount = (Decimal(amount_cents) / 100).quantize(Decimal("0.01"))
    except ArithmeticError:
        return _bad("Montant illisible.")
    shown = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"
    return render(
        request,
        "paysim/page.html",
        {
            "provider": provider,
            "amount": shown,
            "reference": reference,
            "fields": fields,
            "action": action,
        },
    )


# --- PayZen / Systempay ------------------------------------------------------------------


def payzen_signature(fields: dict, key: str) -> str:
    """base64(HMAC-SHA-256(key, values of the vads_* fields sorted by name, '+', key))."""
    values = [str(fields[k]) for k in sorted(k for k in fields if k.startswith("vads_"))]
    message = "+".join([*values, key]).encode()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


@access(PUBLIC, methods=POST, everyone="bad_request")  # an unsigned form: refused
@csrf_exempt  # the merchant's site posts here, as to PayZen
@require_POST
def payzen(request):
    _enabled()
    fields = {k: v for k, v in request.POST.items() if k.startswith("vads_")}
    signature = request.POST.get("signature", "")
    decision = request.POST.get("decision", "")
    if not fields or not hmac.compare_digest(signature, payzen_signature(fields, keys.PAYZEN_KEY)):
        return _bad("Formulaire de paiement refusé : signature absente ou invalide.")
    if decision not in PAYZEN_RESULTS:
        return _page(
            request,
            provider="PayZen / Systempay",
            amount_cents=fields.get("vads_amount", ""),
            reference=fields.get("vads_order_id", ""),
            fields={**fields, "signature": signature},
            action=request.path,
        )
    check, back = fields.get("vads_url_check", ""), fields.get("vads_url_return", "")
    if not (_ours(request, check) and _ours(request, back)):
        return _bad("Adresses de notification ou de retour inconnues.")
    now = datetime.now(UTC)
    ipn = {
        k: v
        for k, v in fields.items()
        if k not in ("vads_url_check", "vads_url_return", "vads_return_mode")
    }
    ipn.update(PAYZEN_RESULTS[decision])
    ipn.update(
        vads_auth_number=f"{secrets.randbelow(10**6):06d}" if decision == "pay" else "",
        vads_effective_amount=fields.get("vads_amount", ""),
        vads_effective_creation_date=now.strftime("%Y%m%d%H%M%S"),
        vads_operation_type="DEBIT",
        vads_url_check_src="PAY",
        vads_card_brand="CB",
        vads_card_number="497010XXXXXX0000",
        vads_extra_result="",
        vads_hash=secrets.token_hex(16),
    )
    ipn["signature"] = payzen_signature(ipn, keys.PAYZEN_KEY)
    _post_to(check, urlencode(ipn))  # the IPN: the merchant's source of truth
    return HttpResponseRedirect(back)


# --- Paybox ----------------------------------------------------------------------------


def paybox_hmac(pairs: list[tuple[str, str]], key_hex: str) -> str:
    message = "&".join(f"{k}={v}" for k, v in pairs).encode()
    algo = dict(pairs).get("PBX_HASH", "SHA512").lower()
    return hmac.new(bytes.fromhex(key_hex), message, algo).hexdigest().upper()


def paybox_answer(values: dict[str, str], key=None) -> str:
    """The answer's variables URL-encoded in PBX_RETOUR order, then `signature`:
    base64 of SHA1withRSA over that string (Paybox's documented scheme)."""
    # Optional library (pycryptodomex, the payment simulator's signatures): loaded when used.
    from Cryptodome.Hash import SHA
    from Cryptodome.Signature import PKCS1_v1_5

    data = "&".join(f"{k}={quote(values[k])}" for k, _ in PAYBOX_RETOUR)
    key = key or keys.paybox_private_key()
    signature = PKCS1_v1_5.new(key).sign(SHA.new(data.encode()))
    return f"{data}&signature={quote(base64.b64encode(signature).decode())}"


@access(PUBLIC, methods=POST, everyone="bad_request")  # an unsigned form: refused
@csrf_exempt  # the merchant's site posts here, as to Paybox
@require_POST
def paybox(request):
    _enabled()
    pairs = [(k, v) for k, v in request.POST.items() if k.startswith("PBX_") and k != "PBX_HMAC"]
    given = request.POST.get("PBX_HMAC", "")
    decision = request.POST.get("decision", "")
    try:
        expected = paybox_hmac(pairs, keys.PAYBOX_HMAC_HEX) if pairs else ""
    except (ValueError, TypeError):
        expected = ""
    if not expected or not hmac.compare_digest(given.upper(), expected):
        return _bad("Formulaire de paiement refusé : PBX_HMAC absent ou invalide.")
    values = dict(pairs)
    if decision not in PAYBOX_ERRORS:
        return _page(
            request,
            provider="Paybox",
            amount_cents=values.get("PBX_TOTAL", ""),
            reference=values.get("PBX_CMD", "").partition("!")[2],
            fields={**values, "PBX_HMAC": given},
            action=request.path,
        )
    notify = values.get("PBX_REPONDRE_A", "")
    back = values.get("PBX_EFFECTUE" if decision == "pay" else "PBX_REFUSE", "")
    if decision == "cancel":
        back = values.get("PBX_ANNULE", back)
    if not (_ours(request, notify) and _ours(request, back)):
        return _bad("Adresses de notification ou de retour inconnues.")
    now = datetime.now(UTC)
    answer = paybox_answer(
        {
            "montant": values.get("PBX_TOTAL", ""),
            "reference": values.get("PBX_CMD", ""),
            "code_autorisation": f"{secrets.randbelow(10**6):06d}" if decision == "pay" else "",
            "erreur": PAYBOX_ERRORS[decision],
            "numero_appel": f"{secrets.randbelow(10**10):010d}",
            "numero_transaction": f"{secrets.randbelow(10**10):010d}",
            "date_transaction": now.strftime("%Y%m%d"),
            "heure_transaction": now.strftime("%H:%M:%S"),
        }
    )
    # Paybox calls PBX_REPONDRE_A with the answer in the query string (GET).
    sep = "&" if "?" in notify else "?"
    try:
        with urllib.request.urlopen(f"{notify}{sep}{answer}", timeout=15):
            pass
    except OSError:
        pass
    sep = "&" if "?" in back else "?"
    return HttpResponseRedirect(f"{back}{sep}{answer}")
