"""Pages of account linking (families.linking), in the « Mon compte » section
(/<slug>/compte/..., URL names `accounts:*`: portal/urls_tenant.py mounts them
with accounts' own pages): « Déclarer mes enfants » for an account without a
family file, and the staff's list of legal representatives without an account,
who are handed an activation key."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts import services as accounts_services
from accounts.forms import ChildrenFormSet, KeyIssueForm
from accounts.permissions import staff_required
from accounts.views import key_label, unlinked_only
from core.access import GET_POST, POST, SIGNED_IN, STAFF, access
from families import linking


def _private(response):
    """Pages with personal data: never stored by a browser or proxy cache."""
    response["Cache-Control"] = "no-store"
    return response


@access(SIGNED_IN, methods=GET_POST)  # linked accounts and staff are sent to their space
@login_required
@csrf_protect
@never_cache
def declare_children_view(request):
    """« Déclarer mes enfants »: a request the town validates; accepting it
    creates the family file, its legal representative and these children."""
    elsewhere = unlinked_only(request)
    if elsewhere:
        return elsewhere
    formset = ChildrenFormSet(request.POST or None, prefix="enfants")
    if request.method == "POST" and formset.is_valid():
        children = [
            {
                "first_name": f.cleaned_data["first_name"],
                "last_name": f.cleaned_data["last_name"],
                "birth_date": f.cleaned_data["birth_date"].isoformat(),
            }
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if children:
            linking.submit_link_request(user=request.user, children=children)
            messages.success(
                request,
                "Votre déclaration est envoyée à la mairie : vous serez prévenu(e) par courriel "
                "quand votre dossier sera créé.",
            )
            return redirect("families:dashboard")
        formset._non_form_errors = formset.error_class(["Indiquez au moins un enfant."])
    status = 422 if request.method == "POST" else 200
    return render(
        request, "families/link/declare_children.html", {"formset": formset}, status=status
    )


@access(STAFF())
@staff_required()
@never_cache
def staff_keys_view(request):
    """Legal representatives without an account, and their key's state."""
    query = request.GET.get("q", "").strip()[:80]
    page = Paginator(linking.adults_without_account(query=query), 50).get_page(
        request.GET.get("page")
    )
    return _private(
        render(
            request,
            "families/link/staff_keys.html",
            {
                "page": page,
                "query": query,
                "form": KeyIssueForm(),
                "key_label": key_label(request.tenant),
                "key_days": settings.ACCOUNTS_ACTIVATION_KEY_DAYS,
            },
        )
    )


@access(STAFF(), methods=POST)
@staff_required()
@require_POST
@never_cache
def staff_issue_key_view(request, adult_id):
    adult = linking.adult_without_account(adult_id=adult_id)
    form = KeyIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Choisissez comment remettre {key_label(request.tenant).le}.")
        return redirect("accounts:staff_keys")
    by_email = form.cleaned_data["delivery"] == "email"
    try:
        key, plain = accounts_services.issue_activation_key(
            adult=adult, issued_by=request.user, send_email=by_email
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("accounts:staff_keys")
    if by_email:
        noun = key_label(request.tenant)
        sent = "envoyée" if noun.feminine else "envoyé"
        messages.success(request, f"{noun.Le} a été {sent} à {adult.email}.")
        return redirect("accounts:staff_keys")
    # The key in clear exists only in this response: printed, never stored.
    return _private(
        render(
            request,
            "families/link/staff_key_letter.html",
            {
                "adult": adult,
                "key": key,
                "plain": plain,
                "key_label": key_label(request.tenant),
                "signup_url": request.build_absolute_uri(reverse("accounts:signup")),
                "town": connection.tenant,
            },
        )
    )
