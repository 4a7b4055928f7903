"""Forms of accounts: parse and validate input, in French. Writes are in services."""

from __future__ import annotations

import time

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm

from accounts import rules, signin_gate
from accounts.backends import UNVERIFIED_ATTR, find_account
from accounts.models import User
from accounts.security import (
    key_ip_throttle,
    key_prefix_throttle,
    login_account_throttle,
    login_ip_throttle,
)
from accounts.services import find_key_problem
from accounts.throttling import client_ip, first_wait

INVALID_LOGIN = "Identifiant ou mot de passe incorrect."
PASSWORD_HELP = (
    "Au moins 12 caractères. Pas de règle de composition : une phrase de plusieurs mots, "
    "avec des espaces ou des accents, est un bon choix."
)


class PlainLabels:
    """Labels without Django's " :" suffix (the design puts them above the field)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TownSetPasswordForm(PlainLabels, SetPasswordForm):
    pass


class TownPasswordChangeForm(PlainLabels, PasswordChangeForm):
    pass


def throttle_identity(identifier: str) -> str:
    """One counter per account whether it is named by e-mail or username (an
    attacker alternating both gets no extra tries); unknown identifiers count
    by their text, so the delays look the same either way."""
    account = find_account(identifier)
    return f"user:{account.pk}" if account else f"id:{identifier.strip().lower()}"


def _password_field(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,  # spaces are part of a passphrase
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _validate_new_password(form: forms.Form, field: str, user: User) -> None:
    password = form.cleaned_data.get(field)
    if password:
        try:
            password_validation.validate_password(password, user=user)
        except forms.ValidationError as error:
            form.add_error(field, error)


class LoginForm(PlainLabels, forms.Form):
    identifier = forms.CharField(
        label="Adresse e-mail ou nom d'utilisateur",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = _password_field("Mot de passe", "current-password")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = None
        self.throttled = False
        self.retry_after = 0
        self.gate_turn = None

    def clean(self):
        identifier = (self.cleaned_data.get("identifier") or "").strip()
        password = self.cleaned_data.get("password")
        if not identifier or not password:
            return self.cleaned_data
        account, ip = throttle_identity(identifier), client_ip(self.request)
        wait = first_wait((login_account_throttle, account), (login_ip_throttle, ip))
        if wait:
            # Counted per typed identifier, existing or not: the delay itself
            # tells nothing about the account.
            self.throttled = True
            raise forms.ValidationError(rules.wait_message(wait), code="throttled")
        # The password hash, admitted at the rate the server hashes (signin_gate):
        # over it, answered at once without hashing.
        turn = signin_gate.admit(self.request.COOKIES.get(signin_gate.TURN_COOKIE, ""))
        self.gate_turn = turn
        if turn.wait:
            self.throttled = True
            self.retry_after = turn.wait
            raise forms.ValidationError(signin_gate.wait_message(turn.wait), code="busy")
        started = time.perf_counter()
        user = authenticate(self.request, username=identifier, password=password)
        signin_gate.measured(time.perf_counter() - started)
        if user is None:
            login_account_throttle.failure(account)
            login_ip_throttle.failure(ip)
            unverified = getattr(self.request, UNVERIFIED_ATTR, None)
            if unverified is not None:
                self.unverified_user = unverified
                raise forms.ValidationError(
                    "Votre adresse e-mail n'est pas encore confirmée : suivez le lien reçu "
                    "par e-mail. Un nouveau lien vient de vous être envoyé.",
                    code="unverified",
                )
            raise forms.ValidationError(INVALID_LOGIN, code="invalid_login")
        login_account_throttle.reset(account)
        self.user = user
        return self.cleaned_data


class ActivationKeyCheck:
    """The one check of a typed activation key (sign-up and « J'ai reçu une
    clé »): format, throttles per address and per key prefix, known and usable."""

    def clean_activation_key(self):
        typed = self.cleaned_data.get("activation_key", "")
        key = rules.normalize_key(typed)
        if not key:
            return ""
        ip, prefix = client_ip(self.request), key[: rules.KEY_PREFIX_LENGTH]
        wait = first_wait((key_ip_throttle, ip), (key_prefix_throttle, prefix))
        if wait:
            self.throttled = True
            raise forms.ValidationError(rules.wait_message(wait), code="throttled")
        if not rules.key_is_well_formed(key):
            problem = (
                "Une clé compte 16 caractères (lettres et chiffres), par exemple "
                "K7QF-M2XR-9TDA-HW3P."
            )
        else:
            _, problem = find_key_problem(key)
        if problem:
            key_ip_throttle.failure(ip)
            key_prefix_throttle.failure(prefix)
            raise forms.ValidationError(problem)
        return key


class KeyLaterForm(ActivationKeyCheck, forms.Form):
    """« J'ai reçu une clé »: a signed-in account without a family file enters
    the key the town sent, with the same checks as at sign-up."""

    activation_key = forms.CharField(
        label="Clé reçue de la mairie",
        max_length=40,
        help_text="16 caractères, par exemple K7QF-M2XR-9TDA-HW3P.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.throttled = False


class SignupForm(ActivationKeyCheck, PlainLabels, forms.Form):
    first_name = forms.CharField(
        label="Prénom", max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Nom", max_length=80, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        help_text="Obligatoire : un lien de confirmation vous y sera envoyé.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=20,
        help_text="Par exemple : 06 12 34 56 78.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    address_line = forms.CharField(
        label="Adresse",
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label="Code postal",
        max_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(
        label="Commune",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    username = forms.CharField(
        label="Nom d'utilisateur",
        max_length=40,
        help_text="Lettres sans accent, chiffres, points ou tirets (par exemple : claire.martin).",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    activation_key = forms.CharField(
        label="Clé d'activation",
        required=False,
        max_length=40,
        help_text=(
            "Facultative. Sans clé, votre espace sera rattaché à votre dossier par la mairie."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, request, key_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.throttled = False
        if key_label:
            self.fields["activation_key"].label = key_label.capital

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"].strip())

    def clean_phone(self):
        phone = rules.normalize_french_phone(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError(
                "Saisissez un numéro de téléphone français à 10 chiffres, "
                "par exemple 06 12 34 56 78."
            )
        return phone

    def clean_postcode(self):
        postcode = self.cleaned_data["postcode"].strip()
        if not rules.postcode_is_valid(postcode):
            raise forms.ValidationError("Le code postal compte 5 chiffres, par exemple 81100.")
        return postcode

    def clean_username(self):
        username = rules.normalize_username(self.cleaned_data["username"])
        problem = rules.username_problem(username)
        if problem:
            raise forms.ValidationError(problem)
        # Whether the name is taken is never said here (it would tell who has an
        # account): services.sign_up answers the same and the e-mail says it.
        return username

    def clean(self):
        data = super().clean()
        candidate = User(
            username=data.get("username", ""),
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        _validate_new_password(self, "password", candidate)
        return data


class PasswordResetRequestForm(PlainLabels, forms.Form):
    identifier = forms.CharField(
        label="Adresse e-mail ou nom d'utilisateur",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )


class IdentifiersForm(PlainLabels, forms.Form):
    username = forms.CharField(
        label="Nom d'utilisateur",
        max_length=40,
        help_text="Lettres sans accent, chiffres, points ou tirets.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        help_text=(
            "Une nouvelle adresse ne remplace l'ancienne qu'après confirmation par le lien envoyé."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    current_password = _password_field("Mot de passe actuel (pour confirmer)", "current-password")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_username(self):
        username = rules.normalize_username(self.cleaned_data["username"])
        problem = rules.username_problem(username)
        if problem:
            raise forms.ValidationError(problem)
        if User.objects.filter(username__iexact=username).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError(
                "Ce nom d'utilisateur est déjà pris : choisissez-en un autre."
            )
        return username

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"].strip())

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Mot de passe incorrect.")
        return password


class OTPTokenForm(PlainLabels, forms.Form):
    token = forms.CharField(
        label="Code à 6 chiffres",
        max_length=10,
        help_text="Le code affiché par votre application d'authentification.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit() or len(token) != 6:
            raise forms.ValidationError("Le code compte 6 chiffres.")
        return token


class KeyIssueForm(PlainLabels, forms.Form):
    DELIVERY = [("letter", "Imprimer une lettre"), ("email", "Envoyer par e-mail")]
    delivery = forms.ChoiceField(
        label="Remise de la clé", choices=DELIVERY, initial="letter", widget=forms.RadioSelect
    )


class DeclaredChildForm(PlainLabels, forms.Form):
    first_name = forms.CharField(label="Prénom", max_length=80)
    last_name = forms.CharField(label="Nom", max_length=80)
    birth_date = forms.DateField(
        label="Date de naissance",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


ChildrenFormSet = forms.formset_factory(
    DeclaredChildForm, extra=2, max_num=8, validate_max=True, absolute_max=8
)
