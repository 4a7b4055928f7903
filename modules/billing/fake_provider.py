"""DEMO ONLY: a local stand-in for eopayment's dummy payment page.

eopayment's dummy backend always sends the browser to Entr'ouvert's public
page (it ignores `dummy_service_url`), which needs the Internet and cannot
call back a server on 127.0.0.1. For the offline demo (`make run`) and the
browser tests, this page plays the provider: it shows the amount, offers
"Payer" / "Refuser", sends the server-to-server notification to OUR
notification URL exactly as the dummy backend expects it (`transaction_id`,
`orderid`, `amount`, `ok`, `signed`), then sends the browser back to the
return URL. No card is typed anywhere.

Off unless settings.BILLING_DEMO_PAYMENT_PAGE (prod.py forces False) AND the
town's provider is `dummy`; a 404 otherwise.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlencode, urlsplit

from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.access import GET_POST, PUBLIC, access

from .pricing import euros
from .selectors import payment_provider
from .views import demo_page_enabled


def _enabled() -> bool:
    return demo_page_enabled() and payment_provider() == "dummy"


def _own_return_url(request, url: str) -> str | None:
    """Only our own return page (no open redirect through the demo page)."""
    parts = urlsplit(url)
    expected = reverse("billing:payment-return")
    if parts.path != expected or (parts.netloc and parts.netloc != request.get_host()):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@access(PUBLIC, methods=GET_POST, everyone="not_found")  # off outside demo sites
@require_http_methods(["GET", "POST"])
def demo_provider(request):
    if not _enabled():
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    fields = {
        k: data.get(k, "")
        for k in ("transaction_id", "orderid", "amount", "email", "return_url", "subject")
    }
    if not fields["transaction_id"] or not fields["orderid"]:
        return HttpResponseBadRequest("Demande de paiement incomplète.")
    return_url = _own_return_url(request, fields["return_url"])
    if return_url is None:
        return HttpResponseBadRequest("Adresse de retour inconnue.")
    if request.method == "GET":
        try:
            amount = euros(fields["amount"])
        except Exception:
            return HttpResponseBadRequest("Montant invalide.")
        return render(request, "billing/demo_provider.html", {"f": fields, "amount": amount})
    notification = {
        "transaction_id": fields["transaction_id"],
        "orderid": fields["orderid"],
        "amount": fields["amount"],
        "email": fields["email"],
        "signed": "1",
    }
    if request.POST.get("decision") == "pay":
        notification["ok"] = "1"
    else:
        notification["reason"] = "refusé par le payeur (démonstration)"
    # The server-to-server call, as a provider makes it: an HTTP POST to our
    # own notification URL (never to a URL taken from the request: no SSRF).
    url = request.build_absolute_uri(reverse("billing:payment-notify"))
    body = urlencode(notification).encode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method="POST"), timeout=10
        ):
            pass
    except OSError:
        pass  # the return page will show "en cours de confirmation", as with a real provider
    return HttpResponseRedirect(return_url)
