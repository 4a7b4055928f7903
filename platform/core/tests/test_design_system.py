"""The design system's helpers: French amounts and dates, the town's words with
agreeing articles, and every Django form widget wearing its component class."""

import datetime
import re
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template

from core.french import Noun, euros

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    "value,text",
    [
        (Decimal("202.13"), f"202,13{NBSP}€"),
        (Decimal("1234.5"), f"1{NNBSP}234,50{NBSP}€"),
        (3, f"3,00{NBSP}€"),
        (0.1 + 0.2, f"0,30{NBSP}€"),
        ("12.005", f"12,01{NBSP}€"),
        (Decimal("-4.5"), f"−4,50{NBSP}€"),
        (Decimal("1000000"), f"1{NNBSP}000{NNBSP}000,00{NBSP}€"),
        (None, ""),
        ("", ""),
        ("n'importe quoi", ""),
    ],
)
def test_euros(value, text):
    assert euros(value) == text


def render(source, **context):
    return Template("{% load ui %}" + source).render(Context(context))


def test_date_filters():
    day = datetime.date(2026, 12, 7)
    assert render("{{ d|date_fr }}", d=day) == "lundi 7 décembre 2026"
    assert render("{{ d|date_court }}", d=day) == "lun. 7 déc."
    assert render("{{ d|date_fr }}", d=datetime.date(2027, 5, 1)) == "samedi 1er mai 2027"
    moment = datetime.datetime(2026, 12, 7, 22, 30, tzinfo=datetime.UTC)  # 23:30 in Paris
    assert render("{{ d|date_heure_fr }}", d=moment) == "lundi 7 décembre 2026 à 23:30"
    assert render("{{ d|date_fr }}|{{ d|date_court }}", d=None) == "|"
    assert render("{{ a|euros }}", a=Decimal("202.13")) == f"202,13{NBSP}€"


@pytest.mark.parametrize(
    "word,le,un,ce,du",
    [
        (
            "clé Enfance",
            "la clé Enfance",
            "une clé Enfance",
            "cette clé Enfance",
            "de la clé Enfance",
        ),
        (
            "code personnel",
            "le code personnel",
            "un code personnel",
            "ce code personnel",
            "du code personnel",
        ),
        (
            "clé espace citoyens/enfance",
            "la clé espace citoyens/enfance",
            "une clé espace citoyens/enfance",
            "cette clé espace citoyens/enfance",
            "de la clé espace citoyens/enfance",
        ),
        ("identifiant", "l'identifiant", "un identifiant", "cet identifiant", "de l'identifiant"),
        (
            "attestation",
            "l'attestation",
            "une attestation",
            "cette attestation",
            "de l'attestation",
        ),
    ],
)
def test_the_towns_word_takes_agreeing_articles(word, le, un, ce, du):
    noun = Noun.of(word)
    assert (noun.le, noun.un, noun.ce, noun.du) == (le, un, ce, du)
    assert render("{{ w|le }}|{{ w|un }}|{{ w|ce }}|{{ w|du }}", w=word) == "|".join(
        (le, un, ce, du)
    ).replace("'", "&#x27;")
    assert noun.Le[0].isupper() and str(noun) == word


class EveryWidget(forms.Form):
    text = forms.CharField(help_text="Aide")
    email = forms.EmailField()
    number = forms.IntegerField()
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "class": "mine"}))
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    many = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.SelectMultiple)
    radio = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(widget=forms.Textarea)
    agree = forms.BooleanField()
    paper = forms.FileField()
    secret = forms.CharField(widget=forms.PasswordInput)
    hidden = forms.CharField(widget=forms.HiddenInput)
    split = forms.SplitDateTimeField()


def _tags(html, name):
    """{attribute: value} of each <name …> tag of the html."""
    out = []
    for attrs in re.findall(rf"<{name}\b([^>]*)>", html):
        out.append(dict(re.findall(r'([\w-]+)(?:="([^"]*)")?', attrs)))
    return out


def test_every_widget_wears_its_component_class():
    html = str(EveryWidget(data={"email": "x"}).as_div())
    component = {"input", "select", "textarea", "checkbox", "radio", "file"}
    controls = [
        tag
        for name in ("input", "select", "textarea")
        for tag in _tags(html, name)
        if tag.get("type") != "hidden"
    ]
    assert len(controls) == 16
    for control in controls:
        assert component & set(control.get("class", "").split()), control
    by_name = {c["name"]: c for c in controls if "name" in c}
    assert by_name["day"]["class"] == "input mine"  # a form's own class is kept
    assert by_name["radio"]["class"] == "radio"
    assert 'id="id_radio" class="choices"' in html  # the list of choices, not a box
    assert all("class" not in option for option in _tags(html, "option"))
    # Label, help and error around each control.
    assert 'class="field field--error' in html and 'class="field__error"' in html
    assert 'class="field__help" id="id_text_helptext"' in html
    assert 'class="field field--check' in html


def test_field_tag_marks_required_fields():
    form = EveryWidget()
    html = render("{% field form.text mark_required=True %}{% field form.agree %}", form=form)
    assert "(obligatoire)" in html and 'class="input"' in html and 'class="checkbox"' in html


def test_quotient_and_numbers_through_nombre():
    assert render("{{ q|nombre }}", q=1250) == f"1{NNBSP}250"
    assert render("{{ q|nombre }}", q=Decimal("3.5")) == "3,50"
    assert render("{{ q|nombre:1 }}", q=Decimal("3.25")) == "3,3"
    assert render("{{ q|nombre }}|{{ n|nombre }}", q=None, n="abc") == "|"


class SeveralFiles(forms.ClearableFileInput):
    allow_multiple_selected = True


class Papers(forms.Form):
    justification = forms.FileField(label="Justificatif", required=False)
    scans = forms.FileField(
        label="Pages", widget=SeveralFiles(attrs={"accept": ".pdf", "multiple": True})
    )


def test_file_inputs_are_the_design_systems_file_chooser():
    """No browser-default file control: Django's file widgets and the
    {% file_pick %} tag render ui/file_pick.html (a 44 px button of ours in
    French over the real input, the chosen name written by ui.js)."""
    html = str(Papers().as_div())
    assert html.count('class="file-pick" data-file-pick') == 2
    files = _tags(html, "input")
    assert [f["class"] for f in files] == ["file", "file"]
    assert files[0]["id"] == "id_justification" and files[1]["accept"] == ".pdf"
    assert "Choisir un fichier" in html and "Choisir des fichiers" in html
    assert 'for="id_justification"' in html  # the field's label names the control
    assert html.count('aria-hidden="true">Choisir') == 2  # the face is not read twice
    hand = render(
        '{% file_pick "doc-x" "doc-castres-x" accept=".pdf,.png" required=True '
        'aria_label="Nouveau fichier : Attestation" %}'
    )
    (tag,) = _tags(hand, "input")
    assert tag["name"] == "doc-x" and tag["id"] == "doc-castres-x" and "required" in tag
    assert tag["aria-label"] == "Nouveau fichier : Attestation" and tag["class"] == "file"
    assert 'data-file-pick-name aria-live="polite"' in hand
