"""Family pages ("Mon espace"). Thin: parse the form, call a service, render.

Every object comes from families.selectors, scoped to the signed-in account's
legal representative: another family's id is a 404. Private pages are never
cached (`Cache-Control: no-store`, security.md).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import contributions
from core.access import FAMILY_OBJECT, FAMILY_PAGE, GET_POST, POST, access
from demandes import handlers
from demandes import rules as demande_rules
from demandes.forms import MessageForm
from demandes.services import change_status, post_message
from demandes.uploads import serve_attachment
from families import api_particulier, forms, qf_api, selectors, services
from families.rules import change_mode

LATEST_DEMANDES = 5


def family_view(view):
    @wraps(view)
    @login_required
    @never_cache
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapped


def _mode(change: str) -> str:
    return change_mode(change, services.town_policy())


def _done(request, outcome, to: str, **kwargs):
    messages.success(request, outcome.message)
    return redirect(to, **kwargs)


def _apply_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError shown on the form (nothing was saved)."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@access(FAMILY_PAGE, staff="ok")  # staff are sent on to their own space
@family_view
def dashboard(request):
    """« Mon tableau de bord »: the tiles of the guides (Castres, Bassens, Bondoufle).

    It is where every login lands (LOGIN_REDIRECT_URL): staff go to their inbox,
    and an account not yet linked to a family file gets an explanation, not a 404.
    """
    if request.user.is_town_staff:
        return redirect("demandes:inbox")
    try:
        adult = selectors.adult_of(request.user)
    except Http404:
        return render(request, "families/unlinked.html", status=200)

    demandes = list(selectors.demandes_of(request.user)[:LATEST_DEMANDES])
    children = list(selectors.children_of(request.user))
    return render(
        request,
        "families/dashboard.html",
        {
            "adult": adult,
            "household": adult.household,
            "demandes": demandes,
            "children": children,
            "cards": contributions.family_dashboard_cards(request, adult.household),
        },
    )


@access(FAMILY_PAGE)
@family_view
def family(request):
    """« Ma famille »: one card per child, the household and its entourage."""
    adult = selectors.adult_of(request.user)
    return render(
        request,
        "families/family.html",
        {
            "adult": adult,
            "household": adult.household,
            "adults": list(adult.household.adults.all()),
            "children": list(selectors.children_of(request.user).prefetch_related("guardians")),
            "child_add_mode": _mode("child_add"),
            "qf_from_caf": api_particulier.town_api(request.tenant) is not None,
        },
    )


@access(FAMILY_OBJECT, pk="child")
@family_view
def child_detail(request, pk):
    child = selectors.child_of(request.user, pk)
    return render(
        request,
        "families/child.html",
        {
            "child": child,
            "health": services.child_health(child),
            "guardians": selectors.guardians_of(child),
            "health_mode": _mode("health_sheet"),
        },
    )


@access(FAMILY_OBJECT, methods=GET_POST, pk="child")
@family_view
def health_edit(request, pk):
    adult = selectors.adult_of(request.user)
    child = selectors.child_of(request.user, pk)
    form = forms.HealthSheetForm(request.POST or None, instance=services.child_health(child))
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.request_change(
                adult=adult, change="health_sheet", payload=form.cleaned_data, child=child
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _done(request, outcome, "families:child", pk=child.pk)
    return render(
        request,
        "families/health_form.html",
        {
            "child": child,
            "form": form,
            "mode": _mode("health_sheet"),
        },
    )


@access(FAMILY_PAGE, methods=GET_POST)
@family_view
def child_add(request):
    adult = selectors.adult_of(request.user)
    form = forms.ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        payload = {**form.cleaned_data, "adult_id": adult.pk}
        try:
            outcome = services.request_change(adult=adult, change="child_add", payload=payload)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _done(request, outcome, "families:family")
    return render(request, "families/child_form.html", {"form": form, "mode": _mode("child_add")})


@access(FAMILY_PAGE, methods=GET_POST)
@family_view
def coordinates(request):
    """Address of the household and the account holder's own contact details."""
    adult = selectors.adult_of(request.user)
    section = request.POST.get("section") if request.method == "POST" else None
    address_form = forms.AddressForm(
        request.POST if section == "address" else None,
        instance=adult.household,
        prefix="address",
    )
    contacts_form = forms.ContactsForm(
        request.POST if section == "contacts" else None,
        instance=adult,
        prefix="contacts",
    )
    form, change, payload_extra = {
        "address": (address_form, "address", {}),
        "contacts": (contacts_form, "contacts", {"adult_id": adult.pk}),
    }.get(section, (None, None, None))
    if form is not None and form.is_valid():
        try:
            outcome = services.request_change(
                adult=adult, change=change, payload={**form.cleaned_data, **payload_extra}
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _done(request, outcome, "families:coordinates")
    status = 400 if form is not None and form.errors else 200
    if form is not None and form.errors:
        adult.household.refresh_from_db()  # the form's instance holds the rejected values
    return render(
        request,
        "families/coordinates.html",
        {
            "adult": adult,
            "household": adult.household,
            "address_form": address_form,
            "contacts_form": contacts_form,
            "address_mode": _mode("address"),
            "contacts_mode": _mode("contacts"),
        },
        status=status,
    )


def _entourage_context(request, adult, form):
    return {
        "household": adult.household,
        "members": list(selectors.entourage_of(request.user)),
        "form": form,
        "add_mode": _mode("entourage_add"),
        "remove_mode": _mode("entourage_remove"),
        "pending_removals": set(
            selectors.demandes_of(request.user)
            .filter(kind="entourage_remove", status__in=["submitted", "in_review"])
            .values_list("payload__member_id", flat=True)
        ),
    }


@access(FAMILY_PAGE, methods=GET_POST)
@family_view
def entourage(request):
    """Authorised pick-up persons and emergency contacts (htmx: the list swaps in place)."""
    adult = selectors.adult_of(request.user)
    form = forms.EntourageForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = services.request_change(
                    adult=adult, change="entourage_add", payload=form.cleaned_data
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, outcome.message)
                if not request.htmx:
                    return redirect("families:entourage")
                form = forms.EntourageForm()
    template = "families/_entourage_panel.html" if request.htmx else "families/entourage.html"
    # htmx swaps only 2xx answers: the panel with its errors comes back as 200.
    status = 400 if form.errors and not request.htmx else 200
    return render(request, template, _entourage_context(request, adult, form), status=status)


@access(FAMILY_OBJECT, methods=POST, pk="member")
@family_view
@require_POST
def entourage_remove(request, pk):
    adult = selectors.adult_of(request.user)
    member = selectors.entourage_member_of(request.user, pk)
    try:
        outcome = services.request_change(
            adult=adult,
            change="entourage_remove",
            payload={"member_id": member.pk, "name": str(member)},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, outcome.message)
    if request.htmx:
        return render(
            request,
            "families/_entourage_panel.html",
            _entourage_context(request, adult, forms.EntourageForm()),
        )
    return redirect("families:entourage")


@access(FAMILY_PAGE, methods=GET_POST)
@family_view
def quotient_familial(request):
    adult = selectors.adult_of(request.user)
    household = adult.household
    form = forms.QuotientFamilialForm(request.POST or None, instance=household)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.request_change(
                adult=adult, change="quotient_familial", payload=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _done(request, outcome, "families:dashboard")
    if form.errors:
        household.refresh_from_db()
    return render(
        request,
        "families/quotient_familial.html",
        {
            "household": household,
            "form": form,
            "mode": _mode("quotient_familial"),
            "qf_from_caf": api_particulier.town_api(request.tenant) is not None,
        },
        status=400 if form.errors else 200,
    )


def _fc_initial(request) -> dict:
    """The identity FranceConnect gave this session (never stored in the database)."""
    claims = request.session.get("fc_identity") or {}
    if not claims:
        return {}
    country = claims.get("birthcountry") or "99100"
    return {
        "birth_name": claims.get("family_name", ""),
        "first_names": claims.get("given_name", ""),
        "sex": {"female": "F", "male": "M"}.get(claims.get("gender", ""), ""),
        "birth_date": claims.get("birthdate", ""),
        "born_abroad": country != "99100",
        "birth_commune": claims.get("birthplace", ""),
        "birth_country": country if country != "99100" else "",
    }


@access(FAMILY_PAGE, methods=GET_POST)  # a town without API Particulier: 404
@family_view
def quotient_familial_caf(request):
    """« Obtenir mon quotient familial auprès de la CAF ou de la MSA »: the
    consent, then API Particulier; any failure leaves the manual path open."""
    api = api_particulier.town_api(request.tenant)
    if api is None:
        raise Http404("La commune n'interroge pas la CAF ni la MSA.")
    adult = selectors.adult_of(request.user)
    household = adult.household
    initial = _fc_initial(request)
    form = forms.QFFromCAFForm(request.POST or None, initial=initial)
    failure = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity = api_particulier.Identity(
            birth_name=data["birth_name"],
            first_names=tuple(data["first_names"].split()),
            sex=data["sex"],
            birth_date=data["birth_date"],
            birth_country=data["birth_country"] if data["born_abroad"] else "99100",
            birth_commune="" if data["born_abroad"] else data["birth_commune"],
        )
        qf_api.record_consent(adult=adult, identity=identity)
        try:
            outcome = qf_api.fetch_and_apply(api=api, adult=adult, identity=identity)
        except api_particulier.APIParticulierError as error:
            failure = error
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if outcome.applied:
                household.refresh_from_db()
                messages.success(
                    request,
                    f"Votre quotient familial ({household.quotient_familial} €) est obtenu "
                    f"auprès de la {'MSA' if household.qf_source == 'api_msa' else 'CAF'} : "
                    "il s'applique à votre prochaine facture.",
                )
                return redirect("families:family")
            return _done(request, outcome, "families:family")
    status = 200
    if failure:
        status = 422 if failure.kind in ("not_found", "bad_request") else 503
    elif form.errors:
        status = 400
    return render(
        request,
        "families/quotient_familial_caf.html",
        {
            "household": household,
            "form": form,
            "failure": failure.message if failure else None,
            "from_franceconnect": bool(initial),
            "consent": qf_api.current_consent(household),
        },
        status=status,
    )


@access(FAMILY_PAGE)
@family_view
def demande_list(request):
    """« Mes demandes »: every request of the household with its status."""
    selectors.adult_of(request.user)
    demandes = list(selectors.demandes_of(request.user))
    return render(request, "families/demandes.html", {"demandes": demandes})


@access(FAMILY_OBJECT, methods=GET_POST, pk="demande")
@family_view
def demande_detail(request, pk):
    selectors.adult_of(request.user)
    demande = selectors.demande_of(request.user, pk, with_history=True)
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            post_message(
                demande=demande,
                author=request.user,
                message=form.cleaned_data["message"],
                upload=form.cleaned_data["attachment"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Votre message a été envoyé.")
            return redirect("families:demande", pk=demande.pk)
    kind = handlers.get(demande.kind)
    return render(
        request,
        "families/demande.html",
        {
            "demande": demande,
            "kind_label": handlers.label(demande.kind),
            "lines": kind.describe(demande) if kind and kind.describe else [],
            "form": form,
            "can_cancel": demande_rules.Action.CANCEL
            in demande_rules.allowed_actions(demande.status, by_staff=False),
        },
        status=400 if form.errors else 200,
    )


@access(FAMILY_OBJECT, methods=POST, pk="demande")
@family_view
@require_POST
def demande_cancel(request, pk):
    demande = selectors.demande_of(request.user, pk)
    try:
        change_status(demande=demande, action="cancel", actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Votre demande est annulée.")
    return redirect("families:demande", pk=demande.pk)


@access(FAMILY_OBJECT, pk="attachment")
@family_view
def attachment_download(request, demande_pk, pk):
    attachment = selectors.attachment_of(request.user, demande_pk, pk)
    return serve_attachment(attachment)


@access(FAMILY_PAGE)
@family_view
def summary(request):
    """« Édition de documents »: a printable summary of the family's data (Castres)."""
    adult = selectors.adult_of(request.user)
    children = list(selectors.children_of(request.user).prefetch_related("guardians"))
    return render(
        request,
        "families/summary.html",
        {
            "adult": adult,
            "household": adult.household,
            "adults": list(adult.household.adults.all()),
            "children": [(c, services.child_health(c)) for c in children],
            "entourage": list(selectors.entourage_of(request.user)),
        },
    )
