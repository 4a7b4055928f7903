"""Petite enfance pages beyond the shared booking ones (booking.urls)."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.permissions import staff_required
from booking.forms import WEEKDAY_CHOICES
from booking.french import PARIS
from booking.grid import family_children
from core import town_config
from core.access import GET_POST, SIGNED_IN, STAFF, access
from core.modules import registry
from modules.petite_enfance import services
from modules.petite_enfance.models import CrecheApplication, LeaveDeclaration

MODULE = "petite_enfance"


def _ctx(**extra):
    return {"module_code": MODULE, "module": registry()[MODULE], **extra}


class LeaveForm(forms.Form):
    enfant = forms.TypedChoiceField(label="Enfant", coerce=int)
    service = forms.ChoiceField(label="Accueil")
    du = forms.DateField(
        label="Premier jour de congé", widget=forms.DateInput(attrs={"type": "date"})
    )
    au = forms.DateField(
        label="Dernier jour de congé (inclus)", widget=forms.DateInput(attrs={"type": "date"})
    )
    commentaire = forms.CharField(label="Commentaire (facultatif)", required=False, max_length=255)

    def __init__(self, *args, children=(), regular=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enfant"].choices = [(c.pk, c.first_name) for c in children]
        self.fields["service"].choices = [(s.code, s.name) for s in regular]


@access(SIGNED_IN, methods=GET_POST)  # the account's own children (staff: none)
@never_cache
@login_required
def leave_view(request):
    children = family_children(request.user)
    regular = list(town_config.services(module=MODULE, kind="creche_reguliere"))
    form = LeaveForm(request.POST or None, children=children, regular=regular)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        child = next(c for c in children if c.pk == d["enfant"])
        service = next(s for s in regular if s.code == d["service"])
        try:
            leave = services.declare_leave(
                child=child,
                service=service,
                first_day=d["du"],
                last_day=d["au"],
                comment=d["commentaire"],
                user=request.user,
            )
        except services.PetiteEnfanceRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Congés enregistrés : {leave.cancelled_days} jour(s) "
                "d'accueil libéré(s), non facturé(s).",
            )
            return redirect(reverse(f"{MODULE}:leave"))
    declared = LeaveDeclaration.objects.filter(child__in=children).select_related(
        "child", "service"
    )
    return render(
        request,
        "petite_enfance/leave.html",
        _ctx(form=form, declared=list(declared[:50]), regular=regular),
        status=422 if request.method == "POST" else 200,
    )


class ApplicationForm(forms.Form):
    enfant = forms.TypedChoiceField(label="Enfant", coerce=int, required=False, empty_value=None)
    enfant_a_naitre = forms.CharField(
        label="Ou prénom de l'enfant à naître (si connu)", required=False, max_length=80
    )
    service = forms.ChoiceField(label="Accueil souhaité")
    debut = forms.DateField(
        label="Date d'accueil souhaitée", widget=forms.DateInput(attrs={"type": "date"})
    )
    jours = forms.TypedMultipleChoiceField(
        label="Jours souhaités",
        coerce=int,
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    heures = forms.IntegerField(label="Heures par semaine", min_value=1, max_value=60)
    precisions = forms.CharField(
        label="Précisions (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, children=(), regular=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enfant"].choices = [("", "— enfant à naître —")] + [
            (c.pk, c.first_name) for c in children
        ]
        self.fields["service"].choices = [(s.code, s.name) for s in regular]


@access(SIGNED_IN, methods=GET_POST)
@never_cache
@login_required
def application_view(request):
    children = family_children(request.user)
    regular = list(town_config.services(module=MODULE, kind="creche_reguliere"))
    form = ApplicationForm(request.POST or None, children=children, regular=regular)
    household = (
        children[0].household
        if children
        else getattr(getattr(request.user, "adult", None), "household", None)
    )
    if request.method == "POST" and form.is_valid() and household is not None:
        d = form.cleaned_data
        child = next((c for c in children if c.pk == d["enfant"]), None)
        try:
            services.submit_application(
                household=household,
                service=next(s for s in regular if s.code == d["service"]),
                desired_start=d["debut"],
                weekdays=d["jours"],
                hours_per_week=d["heures"],
                child=child,
                expected_child_name=d["enfant_a_naitre"],
                comment=d["precisions"],
                user=request.user,
            )
        except services.PetiteEnfanceRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "Pré-inscription envoyée : le service vous proposera un "
                "rendez-vous ; les places sont attribuées en commission.",
            )
            return redirect(reverse(f"{MODULE}:application"))
    mine = (
        CrecheApplication.objects.filter(household=household).select_related("service")
        if household
        else []
    )
    return render(
        request,
        "petite_enfance/application.html",
        _ctx(form=form, applications=list(mine), regular=regular),
        status=422 if request.method == "POST" else 200,
    )


@access(STAFF("petite_enfance"))
@never_cache
@staff_required(MODULE)
def staff_applications(request):
    rows = CrecheApplication.objects.select_related("household", "child", "service").order_by(
        "status", "desired_start", "id"
    )
    return render(request, "petite_enfance/staff_applications.html", _ctx(applications=list(rows)))


class AppointmentForm(forms.Form):
    rendez_vous = forms.DateTimeField(
        label="Date et heure du rendez-vous",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    lieu = forms.CharField(label="Lieu", required=False, max_length=160)


class CommissionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision de la commission",
        choices=[
            ("accepted", "Place attribuée"),
            ("waiting", "Liste d'attente"),
            ("refused", "Non retenue"),
        ],
    )
    commission = forms.DateField(
        label="Date de la commission", widget=forms.DateInput(attrs={"type": "date"})
    )
    debut = forms.DateField(
        label="Début du contrat (si place attribuée)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    fin = forms.DateField(
        label="Fin du contrat (par défaut : fin de l'année scolaire)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label="Message à la famille", required=False, max_length=2000)
    derogation = forms.CharField(
        label="Motif de la dérogation (enfant hors des conditions d'âge ou de résidence)",
        required=False,
        max_length=500,
        help_text="Obligatoire seulement pour attribuer une place malgré les conditions ; "
        "enregistré au journal.",
    )


@access(STAFF("petite_enfance"), methods=GET_POST)
@never_cache
@staff_required(MODULE)
def staff_application(request, application_id):
    application = get_object_or_404(
        CrecheApplication.objects.select_related("household", "child", "service"), pk=application_id
    )
    appointment = AppointmentForm(request.POST if request.POST.get("what") == "rdv" else None)
    commission = CommissionForm(request.POST if request.POST.get("what") == "commission" else None)
    try:
        if appointment.is_bound and appointment.is_valid():
            at = appointment.cleaned_data["rendez_vous"]
            at = at if at.tzinfo else at.replace(tzinfo=PARIS)
            services.record_appointment(
                application=application,
                at=at,
                place=appointment.cleaned_data["lieu"],
                actor=request.user,
            )
            messages.success(request, "Rendez-vous enregistré ; la famille est prévenue.")
            return redirect(reverse(f"{MODULE}:staff-application", args=[application.pk]))
        if commission.is_bound and commission.is_valid():
            d = commission.cleaned_data
            services.record_decision(
                application=application,
                decision=d["decision"],
                actor=request.user,
                note=d["note"],
                commission_date=d["commission"],
                start_date=d["debut"],
                override_reason=d["derogation"],
                end_date=d["fin"],
            )
            messages.success(request, "Décision enregistrée ; la famille est prévenue.")
            return redirect(reverse(f"{MODULE}:staff-application", args=[application.pk]))
    except services.PetiteEnfanceRefused as exc:
        messages.error(request, str(exc))
    return render(
        request,
        "petite_enfance/staff_application.html",
        _ctx(
            application=application,
            appointment=appointment,
            commission=commission,
            weekday_names=[n for v, n in WEEKDAY_CHOICES if v in application.weekdays],
            now=datetime.now(PARIS),
        ),
    )
