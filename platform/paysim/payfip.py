"""DEMO ONLY: the simulator's PayFiP (DGFiP), in PayFiP's own protocol.

PayFiP signs nothing; its contract is a SOAP web service (the WSDL and XSDs
PayFiP publishes, copied in paysim/payfip/, with their service address turned
to this simulator) plus a payment page:

1. the merchant asks `creerPaiementSecurise` (numcli, exer, refdet, montant in
   cents, mel, objet, saisie, urlnotif, urlredirect) and gets an `idOp`;
2. it sends the family's browser to the payment page with `?idop=`;
3. on « Payer », PayFiP POSTs `idop=` to `urlnotif` (server to server) and
   sends the browser back to `urlredirect` with `idop=`;
4. the merchant CONFIRMS by asking `recupererDetailPaiementSecurise(idOp)`:
   `resultrans` P (paid), R (refused), A (abandoned), with `dattrans`
   (DDMMYYYY), `heurtrans` (HHMM), `numauto`, `montant`, `refdet`...; while the
   family is still on the page the answer is the functional fault P5 (in
   progress), and an unknown operation the fault P1.

The operations live in the cache (a day), like PayFiP's that are purged overnight.
"""

from __future__ import annotations

import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.access import GET_POST, POST, PUBLIC, access

from . import views

CONTRACT = Path(__file__).parent / "payfip"
FILES = {
    "PaiementSecuriseService.wsdl",
    "PaiementSecuriseService_schema1.xsd",
    "PaiementSecuriseService_schema2.xsd",
    "PaiementSecuriseService_schema3.xsd",
}
SERVICE_NS = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService"
)
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
FAULT = "fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur"
REFDET = re.compile(r"^[A-Za-z0-9]{1,30}$")
RESULTS = {"pay": "P", "refuse": "R", "cancel": "A"}
PARIS = ZoneInfo("Europe/Paris")
TTL = 24 * 3600


def _key(idop: str) -> str:
    return f"paysim:payfip:{idop}"


# --- the published contract, pointing here ------------------------------------------------


@access(PUBLIC)  # the contract is public, as PayFiP's
def contract(request, name):
    """The WSDL (its service address: this simulator) and its schemas."""
    views._enabled()
    if name not in FILES:
        raise Http404
    text = (CONTRACT / name).read_text()
    if name.endswith(".wsdl"):
        text = text.replace(
            "https://www.payfip.gouv.fr/tpa/services/securite",
            # Beside the WSDL, as at PayFiP (no reverse(): the address is read
            # from this very request, whatever script prefix a caller left set).
            request.build_absolute_uri(request.path.rpartition("/")[0] + "/securite"),
        )
    return HttpResponse(text, content_type="text/xml; charset=utf-8")


# --- the SOAP service ----------------------------------------------------------------------


def _envelope(body: str, status: int = 200) -> HttpResponse:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="{SOAP_NS}">'
        f"<S:Body>{body}</S:Body></S:Envelope>"
    )
    return HttpResponse(xml, status=status, content_type="text/xml; charset=utf-8")


def _fault(code: str, text: str) -> HttpResponse:
    """PayFiP's functional error (eopayment reads `code` from the detail)."""
    return _envelope(
        "<S:Fault><faultcode>S:Server</faultcode>"
        f"<faultstring>{FAULT}</faultstring><detail>"
        f'<ns2:FonctionnelleErreur xmlns:ns2="{SERVICE_NS}"><code>{code}</code>'
        f"<descriptif>{escape(text)}</descriptif><libelle>{escape(text)}</libelle>"
        "<severite>2</severite></ns2:FonctionnelleErreur></detail></S:Fault>",
        status=500,
    )


def _answer(operation: str, values: dict[str, str]) -> HttpResponse:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
    return _envelope(
        f'<ns2:{operation}Response xmlns:ns2="{SERVICE_NS}"><return>{inner}</return>'
        f"</ns2:{operation}Response>"
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


@access(PUBLIC, methods=POST, everyone="bad_request")  # no SOAP envelope: refused
@csrf_exempt  # a SOAP client posts here, as to PayFiP
@require_POST
def soap(request):
    views._enabled()
    try:
        root = ET.fromstring(request.body)
        body = next(e for e in root if _local(e.tag) == "Body")
        call = next(iter(body))
    except (ET.ParseError, StopIteration):
        return views._bad("Requête SOAP illisible.")
    operation = _local(call.tag)
    arg = next(iter(call), None)
    fields = {_local(e.tag): (e.text or "").strip() for e in (arg if arg is not None else [])}
    if operation == "creerPaiementSecurise":
        return _create(request, fields)
    if operation == "recupererDetailPaiementSecurise":
        return _detail(fields.get("idOp", ""))
    if operation == "recupererDetailClient":
        numcli = fields.get("numCli", "")
        return _answer(operation, {"libelleN1": "COMMUNE DE DEMONSTRATION", "numcli": numcli})
    return _fault("P0", f"Opération inconnue : {operation}.")


def _create(request, f: dict[str, str]) -> HttpResponse:
    problems = []
    if not re.fullmatch(r"\d{6}", f.get("numcli", "")):
        problems.append("numcli : six chiffres")
    if not re.fullmatch(r"\d{1,8}", f.get("montant", "")) or int(f["montant"]) < 100:
        problems.append("montant : en centimes, au moins 1 €")
    if not REFDET.match(f.get("refdet", "")):
        problems.append("refdet : 1 à 30 lettres ou chiffres")
    if "@" not in f.get("mel", "") or not 6 <= len(f.get("mel", "")) <= 80:
        problems.append("mel : adresse e-mail")
    if f.get("saisie") not in ("T", "X", "W"):
        problems.append("saisie : T, X ou W")
    if not re.fullmatch(r"\d{4}", f.get("exer", "")):
        problems.append("exer : année")
    for name in ("urlnotif", "urlredirect"):
        if not views._ours(request, f.get(name, "")):
            problems.append(f"{name} : adresse du site qui appelle")
    if problems:
        return _fault("P2", "Paramètres refusés : " + " ; ".join(problems) + ".")
    idop = str(uuid.uuid4())
    cache.set(_key(idop), {**f, "idOp": idop, "resultrans": ""}, TTL)
    return _answer("creerPaiementSecurise", {"idOp": idop})


def _detail(idop: str) -> HttpResponse:
    op = cache.get(_key(idop)) if idop else None
    if op is None:
        return _fault("P1", "Opération inconnue ou expirée.")
    if not op["resultrans"]:
        return _fault("P5", "Paiement en cours : l'usager est sur la page de paiement.")
    keys = "dattrans exer heurtrans idOp mel montant numauto numcli objet refdet resultrans saisie"
    return _answer("recupererDetailPaiementSecurise", {k: op.get(k, "") for k in keys.split()})


# --- the payment page ----------------------------------------------------------------------


@access(PUBLIC, methods=GET_POST, everyone="not_found")  # no operation: 404
@csrf_exempt  # PayFiP's page, reached from the merchant's site
def page(request):
    views._enabled()
    idop = request.GET.get("idop") or request.POST.get("idop") or ""
    op = cache.get(_key(idop)) if idop else None
    if op is None:
        raise Http404
    decision = request.POST.get("decision", "") if request.method == "POST" else ""
    if decision not in RESULTS or op["resultrans"]:
        return views._page(
            request,
            provider="PayFiP",
            amount_cents=op["montant"],
            reference=op["refdet"],
            fields={"idop": idop},
            action=request.path,
        )
    now = datetime.now(PARIS)
    op.update(
        resultrans=RESULTS[decision],
        dattrans=now.strftime("%d%m%Y"),
        heurtrans=now.strftime("%H%M"),
        numauto=f"{secrets.randbelow(10**6):06d}" if decision == "pay" else "",
    )
    cache.set(_key(idop), op, TTL)
    views._post_to(op["urlnotif"], urlencode({"idop": idop}))  # server to server
    sep = "&" if "?" in op["urlredirect"] else "?"
    return HttpResponseRedirect(f"{op['urlredirect']}{sep}{urlencode({'idop': idop})}")
