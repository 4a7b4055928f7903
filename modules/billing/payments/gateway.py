"""Online payment through eopayment (Entr'ouvert's library, used by Publik).

`gateway_from_settings()` turns the town's `core.models.PaymentSettings`
(provider, options, and `secret_env`: eopayment option -> NAME of the
environment variable holding the secret) into a `PaymentGateway`. Secrets are
read from the environment when the gateway is built and never stored, logged
or shown in an error message.

Providers: dummy (demo), payzen / systempay (HMAC-SHA-256 signed form and
IPN), paybox (HMAC-signed request, RSA-signed answer), payfip_ws (public
treasury; no signature: a payment is confirmed by querying PayFiP, see
payfip.py). The legacy `tipi` backend is refused on purpose: eopayment reports
its answers as signed without checking anything.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import eopayment
from eopayment.paybox import verify
from eopayment.payfip_ws import PayFiP

from ..pricing import euros
from .contracts import (
    MalformedNotification,
    Notification,
    PaymentConfigurationError,
    PaymentError,
    PaymentRedirect,
    PaymentRequest,
    PaymentStatus,
)
from .providers import SECRET_OPTIONS  # options that are secrets: only via `secret_env`

log = logging.getLogger(__name__)

# eopayment logs its options and the string it signs (secret included) at
# DEBUG level; keep them out of the logs whatever LOG_LEVEL says.
logging.getLogger("eopayment").setLevel(logging.INFO)
_EOPAYMENT_LOGGER = logging.getLogger("eopayment.guichet")

# Our provider name (tenant_configs/schema.json) -> eopayment backend.
EOPAYMENT_KIND = {
    "dummy": eopayment.DUMMY,
    "payzen": eopayment.PAYZEN,
    "systempay": eopayment.SYSTEMPAY,
    "paybox": eopayment.PAYBOX,
    "payfip_ws": eopayment.PAYFIP_WS,
}
# Set per request from PaymentRequest, never from the town's options.
_URL_OPTIONS = {"normal_return_url", "automatic_return_url"}
_STATUS = {getattr(eopayment, name): PaymentStatus(name) for name in PaymentStatus.__members__}
_ISO_4217 = {"978": "EUR"}  # PayZen sends the numeric code


class PaymentGateway(Protocol):
    provider: str

    def start(self, request: PaymentRequest) -> PaymentRedirect:
        """Open a payment attempt; send the browser to the returned redirect."""

    def parse_notification(self, raw: str, *, server_to_server: bool = True) -> Notification:
        """Read a provider's notification (query string or form body); trust
        nothing in it before `verify_notification()`."""


@dataclass(frozen=True)
class EopaymentGateway:
    provider: str
    kind: str  # eopayment's backend name
    options: Mapping[str, Any] = field(repr=False)  # holds the secrets: kept out of repr
    # DEMO ONLY (settings.PAYMENT_SIMULATOR, never in production): the local
    # provider simulator (platform/paysim) stands for the bank's pages, and
    # Paybox answers are verified against its demo public key.
    simulator_url: str = ""
    paybox_public_key: str = field(default="", repr=False)
    # PayFiP is a SOAP service our server calls: the simulator's absolute
    # address (settings.SITE_URL), where its WSDL names its SOAP endpoint.
    simulator_site: str = ""

    # --- requests -------------------------------------------------------

    def start(self, request: PaymentRequest) -> PaymentRedirect:
        payment = self._payment(
            normal_return_url=request.return_url, automatic_return_url=request.notification_url
        )
        minimal = payment.get_minimal_amount()
        if minimal is not None and request.amount < minimal:
            raise PaymentError(f"Le paiement en ligne demande au moins {euros(minimal)}.")
        kwargs: dict[str, Any] = {"email": request.email, "orderid": request.reference}
        if request.description:
            if self.provider in ("payzen", "systempay"):
                kwargs["info1"] = request.description
            elif self.provider in ("payfip_ws", "dummy"):
                kwargs["subject"] = request.description
        transaction_id, kind, data = payment.request(Decimal(request.amount), **kwargs)
        if kind == eopayment.URL:
            if self.simulator_url and self.provider == "payfip_ws":  # PayFiP's page: the demo's
                data = f"{self.simulator_url}payfip/?{urlsplit(data).query}"
            return PaymentRedirect(transaction_id=str(transaction_id), url=data, method="GET")
        if kind == eopayment.FORM:
            url = data.url
            if self.simulator_url:  # the bank's page is the demo simulator's
                url = self.simulator_url + ("paybox/" if self.provider == "paybox" else "payzen/")
            return PaymentRedirect(
                transaction_id=str(transaction_id),
                url=url,
                method=data.method.upper(),
                fields=tuple((f["name"], f["value"]) for f in data.fields),
            )
        raise PaymentError("Réponse inattendue du prestataire de paiement.")  # HTML: unused here

    # --- notifications ----------------------------------------------------

    def parse_notification(
        self, raw: str | bytes, *, server_to_server: bool = True
    ) -> Notification:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if self.provider == "payfip_ws":
            # PayFiP's notification only names the operation: confirm it by
            # asking PayFiP (payfip.py), never by believing the caller.
            # payfip.py imports this module at load time: imported when called (no cycle).
            from .payfip import reconcile_payfip_payment

            idop = _first(parse_qs(raw), "idop") or _first(parse_qs(raw), "idOp")
            if not idop:
                raise MalformedNotification(
                    "Notification PayFiP illisible : identifiant d'opération absent."
                )
            return reconcile_payfip_payment(self, idop=idop, started_at=None)
        kwargs = {"callback": server_to_server} if self.provider == "paybox" else {}
        try:
            response = self._payment().response(raw, **kwargs)
        except (eopayment.ResponseError, KeyError, ValueError, TypeError) as exc:
            log.warning(
                "payment notification unreadable",
                extra={"provider": self.provider, "error": str(exc)},
            )
            raise MalformedNotification(
                "Notification de paiement illisible : champs manquants ou invalides."
            ) from None
        if self.provider == "paybox" and self.paybox_public_key and response.signed is not True:
            response.signed = _paybox_signed(raw, self.paybox_public_key, server_to_server)
        return to_notification(self.provider, response)

    def payment_status(self, transaction_id: str, *, started_at=None) -> Any:
        """eopayment's provider query (PayFiP); network call."""
        return self._payment().payment_status(transaction_id, transaction_date=started_at)

    def _payment(self, **url_options) -> eopayment.Payment:
        payment = eopayment.Payment(
            self.kind, {**self.options, **url_options}, logger=_EOPAYMENT_LOGGER
        )
        if self.simulator_url and self.provider == "payfip_ws":
            # DEMO ONLY: eopayment's PayFiP client, on the simulator's WSDL (the
            # same contract, its service address the simulator's).

            payment.backend.payfip = PayFiP(
                wsdl_url=f"{self.simulator_site}{self.simulator_url}payfip/"
                "PaiementSecuriseService.wsdl"
            )
        return payment


def gateway_from_settings(
    settings,
    *,
    environ: Mapping[str, str] | None = None,
    simulator_url: str = "",
    paybox_public_key: str = "",
    simulator_site: str = "",
) -> EopaymentGateway:
    """Build the gateway of a town from its PaymentSettings row (or any object
    with `kind`, `options` and `secret_env`). Raise PaymentConfigurationError
    (French) when online payment cannot work.

    simulator_url, paybox_public_key: DEMO ONLY (billing.services passes them
    when settings.PAYMENT_SIMULATOR is on): the bank's pages are the local
    simulator's, which signs Paybox answers with a demo key; simulator_site
    (the site's absolute address) is where PayFiP's SOAP client finds the
    simulator's WSDL."""
    environ = os.environ if environ is None else environ
    provider = settings.kind
    if provider == "none":
        raise PaymentConfigurationError("Cette commune ne propose pas le paiement en ligne.")
    if provider not in EOPAYMENT_KIND:
        raise PaymentConfigurationError(
            f"Prestataire de paiement « {provider} » non pris en charge."
        )
    options = dict(settings.options or {})
    secret_env = dict(settings.secret_env or {})
    secret_names = SECRET_OPTIONS[provider] | set(secret_env)

    in_clear = sorted(secret_names & set(options))
    if in_clear:
        raise PaymentConfigurationError(
            f"Option secrète « {in_clear[0]} » écrite en clair : donnez le nom de la variable "
            "d'environnement qui la contient, dans `secrets`."
        )
    if options.get("consider_all_response_signed"):
        # A dummy-backend switch that would accept unsigned answers.
        raise PaymentConfigurationError("L'option « consider_all_response_signed » est interdite.")
    forbidden = sorted(_URL_OPTIONS & set(options))
    if forbidden:
        raise PaymentConfigurationError(
            f"L'option « {forbidden[0]} » est fixée par le portail, pas par la commune."
        )

    for option, variable in secret_env.items():
        value = environ.get(variable, "")
        if value:
            options[option] = value

    if provider in ("payzen", "systempay"):
        # SHA-1 is the form API's legacy algorithm; new shops sign with HMAC-SHA-256.
        options.setdefault("signature_algo", "hmac_sha256")
        mode = str(options.get("vads_ctx_mode", "TEST")).lower()
        needed = {f"secret_{mode}"}
    else:
        needed = set()
    description = eopayment.get_backend(EOPAYMENT_KIND[provider]).description["parameters"]
    for param in description:
        name = param["name"]
        if name in _URL_OPTIONS or param.get("deprecated"):
            continue
        defaulted = param.get("default") not in (None, "")
        if param.get("required") and not defaulted and not name.startswith("secret_"):
            needed.add(name)
    for name in sorted(needed):
        if name in options and options[name] not in ("", None):
            continue
        if name in secret_env:
            raise PaymentConfigurationError(
                f"Paiement en ligne indisponible : la variable d'environnement "
                f"« {secret_env[name]} » (option « {name} ») n'est pas définie sur le serveur."
            )
        raise PaymentConfigurationError(f"Paiement en ligne : l'option « {name} » est obligatoire.")
    for param in description:
        name, check = param["name"], param.get("validation")
        if name in options and check is not None and not _passes(check, options[name]):
            shown = "" if name in secret_names else f" (« {options[name]} »)"
            raise PaymentConfigurationError(
                f"Paiement en ligne : option « {name} » invalide{shown}."
            )
    return EopaymentGateway(
        provider=provider,
        kind=EOPAYMENT_KIND[provider],
        options=options,
        simulator_url=simulator_url,
        paybox_public_key=paybox_public_key if provider == "paybox" else "",
        simulator_site=simulator_site.rstrip("/"),
    )


# The variables of Paybox's answer to its server-to-server call, in the order it
# signs them (eopayment's PBX_RETOUR).
_PAYBOX_CALLBACK_KEYS = (
    "montant",
    "reference",
    "code_autorisation",
    "erreur",
    "numero_appel",
    "numero_transaction",
    "date_transaction",
    "heure_transaction",
)


def _paybox_signed(raw: str, public_key: str, server_to_server: bool) -> bool:
    """Paybox's SHA1withRSA check (eopayment's `verify`) against another public
    key than Paybox's own: the demo simulator's. Same signed string as
    eopayment's paybox backend builds."""

    pairs = parse_qsl(raw, keep_blank_values=True)
    values = dict(pairs)
    try:
        signature = base64.b64decode(values["signature"])
        if server_to_server:
            data = "&".join(f"{k}={quote(values[k])}" for k in _PAYBOX_CALLBACK_KEYS)
        else:
            data = "&".join(
                f"{k}={quote(v)}" for k, v in pairs[: [k for k, _ in pairs].index("signature")]
            )
        return bool(verify(data, signature, key=public_key))
    except (KeyError, ValueError, TypeError):
        return False


def to_notification(provider: str, response) -> Notification:
    """eopayment's PaymentResponse -> our Notification (amount, currency and
    reference read where each provider puts them)."""
    bank = {
        k: (v[0] if isinstance(v, list) and v else v) for k, v in (response.bank_data or {}).items()
    }
    transaction_id = str(response.transaction_id or "")
    if provider in ("payzen", "systempay"):
        order_id = bank.get("vads_order_id", "")
        amount = _cents(bank.get("vads_amount"))
        code = bank.get("vads_currency")
        currency = _ISO_4217.get(code, code)
    elif provider == "dummy":
        order_id = bank.get("orderid", "")
        amount = _euros(bank.get("amount"))
        currency = "EUR"  # the demo backend knows no other
    elif provider == "paybox":
        # PBX_CMD is "<eopayment transaction id>!<our reference>".
        reference = bank.get("reference", "")
        transaction_id = bank.get("numero_transaction") or reference.partition("!")[0]
        order_id = reference.partition("!")[2] or reference
        amount = _cents(bank.get("montant"))
        currency = "EUR"  # PBX_DEVISE 978 is fixed by the signed request
    elif provider == "payfip_ws":
        order_id = bank.get("refdet", "")
        amount = _cents(bank.get("montant"))
        currency = "EUR"  # PayFiP collects euros only
        transaction_id = transaction_id or str(response.order_id or "")
    else:  # pragma: no cover - guarded by gateway_from_settings
        raise PaymentConfigurationError(f"Prestataire « {provider} » non pris en charge.")
    return Notification(
        provider=provider,
        result=_STATUS.get(response.result, PaymentStatus.ERROR),
        signed=response.signed is True,
        transaction_id=transaction_id,
        order_id=str(order_id or ""),
        amount=amount,
        currency=currency,
        test=bool(response.test),
        bank_status=str(response.bank_status or ""),
        bank_data=bank,
        return_content=response.return_content,
    )


def _passes(check, value) -> bool:
    try:
        return bool(check(value))
    except Exception:  # eopayment's validators assume a type
        return False


def _first(query: Mapping[str, list[str]], key: str) -> str:
    values = query.get(key) or [""]
    return values[0]


def _cents(value) -> Decimal | None:
    try:
        cents = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return cents / 100 if cents == cents.to_integral_value() else None


def _euros(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None
