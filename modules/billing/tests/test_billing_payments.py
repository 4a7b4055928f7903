"""Online payment adapter: real signed notifications, built with eopayment's
own code and with the providers' documented algorithms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlencode, urlparse

import eopayment
import pytest
import yaml
from Cryptodome.Hash import SHA
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import PKCS1_v1_5
from eopayment.payfip_ws import PayFiP, PayFiPError

from modules.billing.payments import (
    ExpectedPayment,
    MalformedNotification,
    PaymentConfigurationError,
    PaymentError,
    PaymentRequest,
    PaymentStatus,
    RejectedNotification,
    RejectionReason,
    VerifiedPayment,
    gateway_from_settings,
    needs_another_look,
    reconcile_payfip_payment,
    verify_notification,
)

CONFIGS = Path(__file__).resolve().parents[3] / "tenant_configs"
PAYZEN_KEY = "TestKey0123456789abcdef"  # a PayZen "clé de test" is alphanumeric
REFERENCE = "F2026110042"
EXPECTED = ExpectedPayment(reference=REFERENCE, amount=D("34.56"))


def settings(kind, options=None, secret_env=None):
    return SimpleNamespace(kind=kind, options=options or {}, secret_env=secret_env or {})


def request(amount="34.56", reference=REFERENCE, **kw):
    return PaymentRequest(
        amount=D(amount),
        reference=reference,
        email="claire.martin@example.org",
        return_url="https://portail.example/castres/paiement/retour/",
        notification_url="https://portail.example/castres/paiement/notification/",
        **kw,
    )


# --- PayZen / Systempay ----------------------------------------------------------


def payzen_signature(fields: dict, key: str) -> str:
    """PayZen's documented algorithm, written independently of eopayment:
    base64(HMAC-SHA-256(key, values of the vads_* fields sorted by name, joined
    with '+', then '+' and the key))."""
    values = [fields[name] for name in sorted(f for f in fields if f.startswith("vads_"))]
    message = "+".join([*values, key]).encode("utf-8")
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def payzen_gateway(kind="payzen", mode="TEST"):
    secret = f"secret_{mode.lower()}"
    return gateway_from_settings(
        settings(
            kind,
            {"vads_site_id": "12345678", "vads_ctx_mode": mode},
            {secret: "CASTRES_PAYZEN_SECRET"},
        ),
        environ={"CASTRES_PAYZEN_SECRET": PAYZEN_KEY},
    )


def payzen_ipn(
    amount_cents="3456", order_id=REFERENCE, currency="978", result="00", mode="TEST", **overrides
):
    """The server-to-server notification PayZen posts, correctly signed."""
    fields = {
        "vads_amount": amount_cents,
        "vads_auth_mode": "FULL",
        "vads_auth_number": "3fb1c2",
        "vads_auth_result": result,
        "vads_capture_delay": "0",
        "vads_card_brand": "CB",
        "vads_card_number": "497010XXXXXX0014",
        "vads_ctx_mode": mode,
        "vads_currency": currency,
        "vads_extra_result": "",
        "vads_order_id": order_id,
        "vads_payment_config": "SINGLE",
        "vads_result": result,
        "vads_site_id": "12345678",
        "vads_trans_date": "20261121103015",
        "vads_trans_id": "a1B2c3",
        "vads_trans_status": "AUTHORISED",
        "vads_url_check_src": "PAY",
        "vads_version": "V2",
        "vads_effective_creation_date": "20261121103020",
    }
    fields.update(overrides)
    fields["signature"] = payzen_signature(fields, PAYZEN_KEY)
    return fields


@pytest.mark.parametrize(
    "kind,url",
    [
        ("payzen", "https://secure.payzen.eu/vads-payment/"),
        ("systempay", "https://paiement.systempay.fr/vads-payment/"),
    ],
)
def test_payzen_request_is_a_form_signed_with_hmac_sha256(kind, url):
    redirect = payzen_gateway(kind).start(request(description="Facture de novembre"))
    fields = dict(redirect.fields)
    assert (redirect.url, redirect.method, redirect.is_form) == (url, "POST", True)
    assert fields["vads_amount"] == "3456" and fields["vads_currency"] == "978"
    assert fields["vads_order_id"] == REFERENCE
    assert fields["vads_url_check"].endswith("/castres/paiement/notification/")
    assert fields["vads_order_info"] == "Facture de novembre"
    # eopayment's signature is the documented one.
    assert fields["signature"] == payzen_signature(fields, PAYZEN_KEY)
    assert redirect.transaction_id == f"{fields['vads_trans_date']}_{fields['vads_trans_id']}"


def test_payzen_valid_ipn_is_verified():
    fields = payzen_ipn()
    # eopayment's own signing code agrees with the documented algorithm.
    backend = eopayment.Payment(
        "payzen", {"secret_test": PAYZEN_KEY, "signature_algo": "hmac_sha256"}
    ).backend
    assert backend.signature(fields) == fields["signature"]
    n = payzen_gateway().parse_notification(urlencode(fields))
    assert (n.signed, n.result, n.order_id, n.amount, n.currency, n.test) == (
        True,
        PaymentStatus.PAID,
        REFERENCE,
        D("34.56"),
        "EUR",
        True,
    )
    result = verify_notification(n, expected=EXPECTED, accept_test=True)
    assert result == VerifiedPayment(
        provider="payzen",
        reference=REFERENCE,
        transaction_id="20261121103015_a1B2c3",
        result=PaymentStatus.PAID,
        amount=D("34.56"),
        test=True,
    )
    assert result.paid


def test_payzen_production_payment_is_verified_without_accepting_tests():
    raw = urlencode(payzen_ipn(mode="PRODUCTION"))
    n = payzen_gateway(mode="PRODUCTION").parse_notification(raw)
    result = verify_notification(n, expected=EXPECTED)
    assert isinstance(result, VerifiedPayment) and result.paid and not result.test


def test_payzen_test_payment_is_refused_in_production():
    n = payzen_gateway().parse_notification(urlencode(payzen_ipn()))
    result = verify_notification(n, expected=EXPECTED)
    assert result.reason is RejectionReason.TEST_MODE
    assert "mode test" in result.message


@pytest.mark.parametrize(
    "tamper",
    [
        lambda f: f.update(vads_amount="1"),  # amount changed after signing
        lambda f: f.update(vads_order_id="F2026110043"),
        lambda f: f.update(signature=f["signature"][:-4] + "AAA="),
        lambda f: f.update(signature=payzen_signature(f, "another-shop-key")),
        # The legacy SHA-1 form of the signature is not accepted by an HMAC shop.
        lambda f: f.update(
            signature=hashlib.sha1(
                "+".join(
                    [*[f[k] for k in sorted(x for x in f if x.startswith("vads_"))], PAYZEN_KEY]
                ).encode()
            ).hexdigest()
        ),
    ],
)
def test_payzen_tampered_ipn_is_refused(tamper):
    fields = payzen_ipn()
    tamper(fields)
    n = payzen_gateway().parse_notification(urlencode(fields))
    assert n.signed is False  # eopayment does not raise...
    result = verify_notification(n, expected=EXPECTED, accept_test=True)
    assert result == RejectedNotification(  # ...we refuse
        RejectionReason.UNSIGNED,
        "Notification refusée : la signature du prestataire de paiement est absente ou invalide.",
    )


def test_payzen_wrong_amount_unknown_reference_and_currency():
    gateway = payzen_gateway()

    def check(fields):
        n = gateway.parse_notification(urlencode(fields))
        assert n.signed
        return verify_notification(n, expected=EXPECTED, accept_test=True)

    wrong = check(payzen_ipn(amount_cents="3455"))
    assert wrong.reason is RejectionReason.WRONG_AMOUNT
    assert wrong.message == "Notification refusée : montant payé 34,55 € au lieu de 34,56 €."
    unknown = check(payzen_ipn(order_id="F2026119999"))
    assert unknown.reason is RejectionReason.UNKNOWN_REFERENCE
    assert "« F2026119999 »" in unknown.message
    assert check(payzen_ipn(currency="840")).reason is RejectionReason.WRONG_CURRENCY
    # No invoice at all under that reference:
    n = gateway.parse_notification(urlencode(payzen_ipn()))
    assert verify_notification(n, expected=None, accept_test=True).reason is (
        RejectionReason.UNKNOWN_REFERENCE
    )


def test_payzen_refused_card_is_verified_but_not_paid():
    n = payzen_gateway().parse_notification(urlencode(payzen_ipn(result="05")))
    result = verify_notification(n, expected=EXPECTED, accept_test=True)
    assert isinstance(result, VerifiedPayment)
    assert (result.result, result.paid) == (PaymentStatus.DENIED, False)


def test_payzen_unsigned_or_garbled_notification():
    fields = payzen_ipn()
    del fields["signature"]
    with pytest.raises(MalformedNotification, match="illisible"):
        payzen_gateway().parse_notification(urlencode(fields))
    with pytest.raises(MalformedNotification):
        payzen_gateway().parse_notification(b"\xff\xfe garbage")


def test_repeated_ipn_gives_the_same_verified_payment():
    """PayZen retries its IPN: the caller keys the effect on transaction_id."""
    gateway, raw = payzen_gateway(), urlencode(payzen_ipn())
    first, second = (
        verify_notification(gateway.parse_notification(raw), expected=EXPECTED, accept_test=True)
        for _ in range(2)
    )
    assert first == second


def test_secrets_never_reach_the_logs_or_repr(caplog):
    caplog.set_level(logging.DEBUG)
    gateway = payzen_gateway()
    gateway.start(request())
    gateway.parse_notification(urlencode(payzen_ipn()))
    assert PAYZEN_KEY not in caplog.text
    assert PAYZEN_KEY not in repr(gateway)


# --- dummy (demo) ------------------------------------------------------------------


def dummy():
    return gateway_from_settings(settings("dummy"))


def test_dummy_request_and_notifications():
    redirect = dummy().start(request())
    query = parse_qs(urlparse(redirect.url).query)
    assert redirect.method == "GET"
    assert (query["orderid"], query["amount"]) == ([REFERENCE], ["34.56"])
    tid = redirect.transaction_id

    def verify(**fields):
        raw = urlencode({"transaction_id": tid, "orderid": REFERENCE, "amount": "34.56", **fields})
        return verify_notification(
            dummy().parse_notification(raw), expected=EXPECTED, accept_test=True
        )

    ok = verify(ok="1", signed="1")
    assert isinstance(ok, VerifiedPayment) and ok.paid and ok.transaction_id == tid
    assert verify(ok="1").reason is RejectionReason.UNSIGNED
    assert verify(ok="1", signed="1", amount="3.45").reason is RejectionReason.WRONG_AMOUNT
    assert verify(ok="1", signed="1", orderid="F1").reason is RejectionReason.UNKNOWN_REFERENCE
    assert verify(ok="1", signed="1", amount="abc").reason is RejectionReason.WRONG_AMOUNT
    failed = verify(signed="1")
    assert failed.result is PaymentStatus.ERROR and not failed.paid
    # The demo backend is a test backend: refused unless the town is a demo.
    raw = urlencode(
        {"transaction_id": tid, "orderid": REFERENCE, "amount": "34.56", "ok": 1, "signed": 1}
    )
    assert verify_notification(dummy().parse_notification(raw), expected=EXPECTED).reason is (
        RejectionReason.TEST_MODE
    )
    with pytest.raises(MalformedNotification):
        dummy().parse_notification("orderid=F1")


# --- Paybox: HMAC-signed request, RSA-signed answer -------------------------------------

PAYBOX_HMAC_KEY = "0123456789ABCDEF" * 8  # 64-byte key, hex as in Paybox's back office


def paybox():
    return gateway_from_settings(
        settings(
            "paybox",
            {"site": "1999888", "rang": "32", "identifiant": "107904482"},
            {"shared_secret": "DONGES_PAYBOX_HMAC_KEY"},
        ),
        environ={"DONGES_PAYBOX_HMAC_KEY": PAYBOX_HMAC_KEY},
    )


def test_paybox_request_carries_pbx_hmac():
    redirect = paybox().start(request())
    fields = list(redirect.fields)
    assert fields[-1][0] == "PBX_HMAC"
    signed = "&".join(f"{k}={v}" for k, v in fields[:-1])
    expected = hmac.new(bytes.fromhex(PAYBOX_HMAC_KEY), signed.encode(), hashlib.sha512)
    assert fields[-1][1] == expected.hexdigest().upper()
    values = dict(fields)
    assert (values["PBX_TOTAL"], values["PBX_DEVISE"]) == ("3456", "978")
    assert values["PBX_CMD"].endswith("!" + REFERENCE)
    assert values["PBX_REPONDRE_A"].endswith("/paiement/notification/")


@pytest.fixture(scope="module")
def paybox_test_key():
    return RSA.generate(1024)


@pytest.fixture
def paybox_trusts(monkeypatch, paybox_test_key):
    """Paybox answers are signed with Paybox's private RSA key, which we
    cannot have: sign with a test key and make eopayment verify against its
    public half (the verification code itself is eopayment's)."""
    public = paybox_test_key.publickey().export_key().decode()
    monkeypatch.setattr(eopayment.paybox.verify, "__defaults__", (public,))


def paybox_ipn(key, *, montant="3456", reference=None, erreur="00000"):
    fields = {
        "montant": montant,
        "reference": reference or f"2026-11-21T103015_ABCDEFGHJKMN!{REFERENCE}",
        "code_autorisation": "XXXXXX",
        "erreur": erreur,
        "numero_appel": "0000123456",
        "numero_transaction": "0000654321",
        "date_transaction": "20261121",
        "heure_transaction": "10:30:15",
    }
    # What Paybox signs: the answer's variables, URL-encoded, in PBX_RETOUR order.
    data = "&".join(f"{k}={quote(v)}" for k, v in fields.items())
    signature = PKCS1_v1_5.new(key).sign(SHA.new(data.encode()))
    return {**fields, "signature": base64.b64encode(signature).decode()}


def test_paybox_ipn_signed_by_paybox_is_verified(paybox_trusts, paybox_test_key):
    n = paybox().parse_notification(urlencode(paybox_ipn(paybox_test_key)))
    assert (n.signed, n.result, n.order_id, n.amount, n.transaction_id) == (
        True,
        PaymentStatus.PAID,
        REFERENCE,
        D("34.56"),
        "0000654321",
    )
    assert verify_notification(n, expected=EXPECTED).paid


def test_paybox_tampered_or_foreign_signature_is_refused(paybox_trusts, paybox_test_key):
    fields = paybox_ipn(paybox_test_key)
    fields["montant"] = "100"
    n = paybox().parse_notification(urlencode(fields))
    assert n.signed is False
    assert verify_notification(n, expected=EXPECTED).reason is RejectionReason.UNSIGNED
    forger = RSA.generate(1024)
    n = paybox().parse_notification(urlencode(paybox_ipn(forger)))
    assert verify_notification(n, expected=EXPECTED).reason is RejectionReason.UNSIGNED


def test_paybox_real_key_refuses_our_test_signature(paybox_test_key):
    n = paybox().parse_notification(urlencode(paybox_ipn(paybox_test_key)))
    assert n.signed is False


def test_paybox_unsigned_and_wrong_amount(paybox_trusts, paybox_test_key):
    fields = paybox_ipn(paybox_test_key)
    del fields["signature"]
    n = paybox().parse_notification(urlencode(fields))
    assert verify_notification(n, expected=EXPECTED).reason is RejectionReason.UNSIGNED
    n = paybox().parse_notification(urlencode(paybox_ipn(paybox_test_key, montant="3400")))
    assert verify_notification(n, expected=EXPECTED).reason is RejectionReason.WRONG_AMOUNT
    n = paybox().parse_notification(urlencode(paybox_ipn(paybox_test_key, erreur="00001")))
    assert n.result is PaymentStatus.CANCELLED


# --- PayFiP: no signature, confirmed by querying PayFiP ------------------------------


class SoapRecord(dict):
    """What zeep returns: attribute access, iterable keys."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def payfip():
    return gateway_from_settings(settings("payfip_ws", {"numcli": "123456", "saisie": "T"}))


def test_payfip_request_creates_an_operation(monkeypatch):
    calls = []

    def get_idop(self, **kwargs):
        calls.append(kwargs)
        return "IDOP0123456789"

    monkeypatch.setattr(PayFiP, "get_idop", get_idop)
    redirect = payfip().start(request())
    assert redirect.url == "https://www.payfip.gouv.fr/tpa/paiementws.web?idop=IDOP0123456789"
    assert redirect.transaction_id == "IDOP0123456789"
    [call] = calls
    assert (call["refdet"], call["montant"], call["saisie"]) == (REFERENCE, "3456", "T")
    assert call["url_notification"].endswith("/paiement/notification/")
    with pytest.raises(PaymentError, match="au moins 1,00 €"):
        payfip().start(request(amount="0.50"))


def payfip_answer(resultrans="P", montant="3456", refdet=REFERENCE):
    return SoapRecord(
        dattrans="21112026",
        heurtrans="1030",
        exer="2026",
        idOp="IDOP1",
        mel="claire.martin@example.org",
        montant=montant,
        numauto="123456",
        numcli="123456",
        objet="",
        refdet=refdet,
        resultrans=resultrans,
        saisie="W",
    )


@pytest.mark.parametrize(
    "answer,status,reason",
    [
        (payfip_answer(), PaymentStatus.PAID, None),
        (payfip_answer(montant="3000"), PaymentStatus.PAID, RejectionReason.WRONG_AMOUNT),
        (payfip_answer(refdet="F1"), PaymentStatus.PAID, RejectionReason.UNKNOWN_REFERENCE),
        (payfip_answer(resultrans="R"), PaymentStatus.DENIED, None),
    ],
)
def test_payfip_notification_is_confirmed_by_asking_payfip(monkeypatch, answer, status, reason):
    asked = []

    def get_info_paiement(self, idop, timeout=None):
        asked.append(idop)
        return answer

    monkeypatch.setattr(PayFiP, "get_info_paiement", get_info_paiement)
    n = payfip().parse_notification("idop=IDOP1")
    assert asked == ["IDOP1"]
    assert (n.result, n.signed, n.order_id) == (status, True, answer["refdet"])
    result = verify_notification(n, expected=EXPECTED)
    assert getattr(result, "reason", None) is reason
    assert not needs_another_look(n)


@pytest.mark.parametrize(
    "age,status",
    [(timedelta(minutes=10), PaymentStatus.WAITING), (timedelta(hours=3), PaymentStatus.EXPIRED)],
)
def test_payfip_operation_in_progress_waits_then_expires(monkeypatch, age, status):
    def in_progress(self, idop, timeout=None):
        raise PayFiPError("P5", "paiement en cours")

    monkeypatch.setattr(PayFiP, "get_info_paiement", in_progress)
    started = datetime.now(UTC) - age
    n = reconcile_payfip_payment(payfip(), idop="IDOP1", started_at=started)
    assert n.result is status
    assert needs_another_look(n) is (status is PaymentStatus.WAITING)
    # Nothing was paid: nothing to credit.
    assert not getattr(verify_notification(n, expected=EXPECTED), "paid", False)


def test_payfip_unreachable_is_a_french_error(monkeypatch):
    def down(self, idop, timeout=None):
        raise PayFiPError("HTTP error", "timeout")

    monkeypatch.setattr(PayFiP, "get_info_paiement", down)
    with pytest.raises(PaymentError, match="PayFiP n'a pas pu confirmer le paiement"):
        reconcile_payfip_payment(payfip(), idop="IDOP1", started_at=None)
    with pytest.raises(MalformedNotification, match="identifiant d'opération absent"):
        payfip().parse_notification("foo=bar")
    with pytest.raises(PaymentError, match="ne concerne que PayFiP"):
        reconcile_payfip_payment(dummy(), idop="IDOP1", started_at=None)


# --- building the gateway from the town's settings ------------------------------------


@pytest.mark.parametrize(
    "config,environ,message",
    [
        (settings("none"), {}, "ne propose pas le paiement en ligne"),
        (settings("tipi", {"numcli": "123456"}), {}, "« tipi » non pris en charge"),
        (
            settings("payzen", {"vads_site_id": "12345678", "secret_test": "clair"}),
            {},
            "Option secrète « secret_test » écrite en clair",
        ),
        (
            settings(
                "payzen",
                {"vads_site_id": "12345678"},
                {"secret_test": "CASTRES_PAYZEN_SECRET_TEST"},
            ),
            {},
            "la variable d'environnement « CASTRES_PAYZEN_SECRET_TEST » (option « secret_test ») "
            "n'est pas définie",
        ),
        (
            settings(
                "payzen",
                {"vads_site_id": "12345678", "vads_ctx_mode": "PRODUCTION"},
                {"secret_test": "T", "secret_production": "P"},
            ),
            {"T": "abc"},
            "« P » (option « secret_production ») n'est pas définie",
        ),
        (
            settings("payzen", {}, {"secret_test": "T"}),
            {"T": "abc"},
            "option « vads_site_id » est obligatoire",
        ),
        (
            settings("payzen", {"vads_site_id": "12345678"}, {"secret_test": "T"}),
            {"T": "pas alnum!"},
            "option « secret_test » invalide.",
        ),
        (
            settings(
                "paybox", {"site": "12", "rang": "32", "identifiant": "1"}, {"shared_secret": "K"}
            ),
            {"K": "00"},
            "option « site » invalide (« 12 »)",
        ),
        (settings("dummy", {"consider_all_response_signed": True}), {}, "interdite"),
        (
            settings("dummy", {"normal_return_url": "https://ailleurs.example/"}),
            {},
            "fixée par le portail",
        ),
        (settings("payfip_ws", {"saisie": "T"}), {}, "« numcli » est obligatoire"),
    ],
)
def test_configuration_errors_are_french_and_never_show_secrets(config, environ, message):
    with pytest.raises(PaymentConfigurationError) as exc:
        gateway_from_settings(config, environ=environ)
    assert message in str(exc.value)
    for secret in environ.values():
        assert f"« {secret} »" not in str(exc.value)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(reference="F-2026/42"), "Référence de paiement « F-2026/42 » invalide"),
        (dict(reference="F" * 31), "1 à 30 lettres ou chiffres"),
        (dict(amount="0"), "Montant à payer invalide"),
        (dict(amount="12.345"), "au centime près"),
        (dict(amount="100000.01"), "Montant à payer invalide"),
    ],
)
def test_payment_request_is_checked(kwargs, message):
    with pytest.raises(PaymentError, match=message):
        request(**kwargs)


@pytest.mark.django_db
def test_gateway_from_castres_payment_settings_row(castres, in_town):
    """Castres's YAML (payment: payzen, secrets by env var name) as onboarding stored it."""
    from modules.billing.models import PaymentSettings

    with in_town(castres):
        row = PaymentSettings.objects.get()
    assert row.secret_env == {
        "secret_test": "CASTRES_PAYZEN_SECRET_TEST",
        "secret_production": "CASTRES_PAYZEN_SECRET_PRODUCTION",
    }
    with pytest.raises(PaymentConfigurationError, match="CASTRES_PAYZEN_SECRET_TEST"):
        gateway_from_settings(row, environ={})
    gateway = gateway_from_settings(row, environ={"CASTRES_PAYZEN_SECRET_TEST": PAYZEN_KEY})
    assert (gateway.provider, gateway.options["signature_algo"]) == ("payzen", "hmac_sha256")
    assert dict(gateway.start(request()).fields)["vads_site_id"] == "00000000"


def test_gateway_from_the_donges_yaml():
    payment = yaml.safe_load((CONFIGS / "donges.yaml").read_text())["payment"]
    gateway = gateway_from_settings(
        settings(payment["provider"], payment["options"], payment["secrets"]),
        environ={"DONGES_PAYBOX_HMAC_KEY": PAYBOX_HMAC_KEY},
    )
    assert gateway.provider == "paybox"
    assert dict(gateway.start(request()).fields)["PBX_SITE"] == "1999888"
