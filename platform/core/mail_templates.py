"""E-mail templates a town may rewrite (`email_templates` in its configuration).

Every e-mail the platform sends is a Django template file (`booking/email/offer.txt`...)
rendered by `notifications.outbox.queue_mail`. A town admin may replace its subject and/or
body for their town only, from the back-office or the YAML:

    email_templates:
      booking/email/offer.txt:
        subject: "Une place pour {{ child.first_name }}"
        body: |
          Bonjour, ...

The text is a Django template STRING, run in a SANDBOX (docs/decisions/1002):
- only the tags of `ALLOWED_TAGS` (if, for, firstof, now, comment): no `{% load %}`,
  `{% include %}`, `{% extends %}`, `{% ssi %}`, `{% debug %}`...;
- only the filters of `ALLOWED_FILTERS`;
- only the variables DOCUMENTED for that template (exact dotted paths, e.g.
  `child.first_name`), plus the loop variables the text itself binds: a town
  cannot reach `user.password` or walk the ORM from a documented object.
It is checked when the configuration is validated (French problems, nothing
saved) and again when a message is sent: a text that no longer passes, or fails
while rendering, is logged and the default template is used (an e-mail is never lost).

Each sending app documents its templates in `<app>/email_templates.py`
(`TEMPLATES`: label, default subject, variables, sample data for the preview);
`registry()` collects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import (
    FilterExpression,
    Lexer,
    TextNode,
    TokenType,
    Variable,
    VariableNode,
)
from django.template.defaulttags import (
    CommentNode,
    FirstOfNode,
    ForNode,
    IfNode,
    NowNode,
    TemplateLiteral,
)
from django.template.loader import get_template

# Tags (with their closing/intermediate words) a town's text may use.
ALLOWED_TAGS = {
    "if": ("elif", "else", "endif"),
    "for": ("empty", "endfor"),
    "firstof": (),
    "now": (),
    "comment": ("endcomment",),
}
_ALLOWED_WORDS = set(ALLOWED_TAGS) | {w for words in ALLOWED_TAGS.values() for w in words}
ALLOWED_FILTERS = frozenset(
    {
        "capfirst",
        "cut",
        "date",
        "default",
        "default_if_none",
        "first",
        "floatformat",
        "join",
        "last",
        "length",
        "lower",
        "pluralize",
        "time",
        "title",
        "truncatechars",
        "truncatewords",
        "upper",
        "yesno",
        # French dates (booking.templatetags.booking), as the default templates use them.
        "jour",
        "moment",
    }
)
_FILTERS_TEXT = ", ".join(sorted(ALLOWED_FILTERS))
# Loop variables a text may read inside its own {% for %}.
_FORLOOP = {"forloop.counter", "forloop.counter0", "forloop.first", "forloop.last"}
# Extra filter libraries loaded as builtins (a town's text cannot {% load %}).
FILTER_LIBRARIES = ["booking.templatetags.booking"]

SUBJECT_MAX = 200
BODY_MAX = 20000

# Variables every e-mail receives (the sender passes the town as `commune`).
COMMON_VARIABLES = {
    "commune.name": "nom de la commune",
    "commune.contact_label": "nom du contact principal (ex. « Espace Famille »)",
    "commune.contact_phone": "téléphone du contact principal",
    "commune.contact_email": "e-mail du contact principal",
}


@dataclass(frozen=True)
class EmailTemplate:
    name: str  # the template file, as given to queue_mail
    label: str  # French, for the back-office
    subject: str  # the default subject, as the sender writes it (description)
    variables: Mapping[str, str]  # dotted path -> French description
    sample: Mapping[str, Any] = field(default_factory=dict)  # preview data (without commune)
    required: tuple[str, ...] = ()  # paths the text must use (a reset link...)

    @property
    def all_variables(self) -> dict[str, str]:
        return {**COMMON_VARIABLES, **self.variables}

    def default_source(self) -> str:
        return get_template(self.name).template.source


@cache
def registry() -> dict[str, EmailTemplate]:
    """Every documented template of the installed apps, by name."""

    found: dict[str, EmailTemplate] = {}
    for config in apps.get_app_configs():
        module_name = f"{config.name}.email_templates"
        if find_spec(module_name) is None:
            continue
        for name, entry in import_module(module_name).TEMPLATES.items():
            found[name] = entry
    return dict(sorted(found.items(), key=lambda item: item[1].label))


@cache
def engine() -> Engine:
    # No loaders (nothing to include), no autoescape (plain-text e-mails, like
    # the default files' {% autoescape off %}), unknown variables render empty.
    return Engine(builtins=FILTER_LIBRARIES, autoescape=False, loaders=[], libraries={})


# --- checking a town's text -----------------------------------------------------


def check(source: str, *, variables: Iterable[str], required: Iterable[str] = ()) -> list[str]:
    """French problems of a town's text (empty list: it may be used)."""
    problems = []
    for token in Lexer(source).tokenize():
        if token.token_type is TokenType.BLOCK:
            word = (token.split_contents() or [""])[0]
            if word not in _ALLOWED_WORDS:
                problems.append(
                    f"ligne {token.lineno} : la balise {{% {word} %}} n'est pas permise "
                    f"(balises permises : {', '.join(ALLOWED_TAGS)})."
                )
    if problems:
        return problems
    try:
        template = _compile(source)
    except TemplateSyntaxError as exc:
        return [_french_syntax_error(str(exc))]
    allowed = set(variables)
    used: set[str] = set()
    _walk(template.nodelist, allowed, frozenset(), used, problems)
    for path in required:
        if path not in used:
            problems.append(
                f"le texte doit contenir {{{{ {path} }}}} (sans lui le message ne sert à rien)."
            )
    return list(dict.fromkeys(problems))


def _french_syntax_error(message: str) -> str:
    if m := re.match(r"Invalid filter: '([^']*)'", message):
        return f"le filtre « {m[1]} » n'existe pas (filtres permis : {_FILTERS_TEXT})."
    if m := re.match(r"Unclosed tag on line (\d+): '(\w+)'", message):
        return (
            f"ligne {m[1]} : la balise {{% {m[2]} %}} n'est pas fermée "
            f"(il manque {{% end{m[2]} %}})."
        )
    if m := re.search(r"Could not parse the remainder: '([^']*)'", message):
        return f"expression illisible près de « {m[1]} »."
    if "Empty variable tag" in message:
        return "une variable est vide : écrivez son nom entre {{ et }}."
    if "underscore" in message:
        return "un nom de variable ne peut pas commencer par « _ »."
    if m := re.match(r"'for' statements should use the format", message):
        return "la boucle s'écrit {% for élément in liste %} … {% endfor %}."
    return "modèle illisible : vérifiez les {{ variables }} et les {% balises %}."


def _walk(nodelist, allowed, loop_vars, used, problems) -> None:
    for node in nodelist:
        if isinstance(node, (TextNode, CommentNode)):
            continue
        if isinstance(node, VariableNode):
            _expression(node.filter_expression, allowed, loop_vars, used, problems)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                if condition is not None:
                    _condition(condition, allowed, loop_vars, used, problems)
                _walk(body, allowed, loop_vars, used, problems)
        elif isinstance(node, ForNode):
            _expression(node.sequence, allowed, loop_vars, used, problems)
            inner = loop_vars | set(node.loopvars) | {"forloop"}
            _walk(node.nodelist_loop, allowed, frozenset(inner), used, problems)
            _walk(node.nodelist_empty, allowed, loop_vars, used, problems)
        elif isinstance(node, FirstOfNode):
            for expression in node.vars:
                _expression(expression, allowed, loop_vars, used, problems)
            if node.asvar:
                allowed.add(node.asvar)
        elif isinstance(node, NowNode):
            if node.asvar:
                allowed.add(node.asvar)
        else:  # cannot happen with the tag allow-list; refuse rather than guess
            problems.append(f"élément non permis : {node.__class__.__name__}.")


def _condition(condition, allowed, loop_vars, used, problems) -> None:
    if isinstance(condition, TemplateLiteral):
        _expression(condition.value, allowed, loop_vars, used, problems)
        return
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if part is not None:
            _condition(part, allowed, loop_vars, used, problems)


def _expression(expression: FilterExpression, allowed, loop_vars, used, problems) -> None:
    _variable(expression.var, allowed, loop_vars, used, problems)
    for func, args in expression.filters:
        name = getattr(func, "_filter_name", func.__name__)
        if name not in ALLOWED_FILTERS:
            problems.append(
                f"le filtre « {name} » n'est pas permis (filtres permis : {_FILTERS_TEXT})."
            )
        for is_var, arg in args:
            if is_var:
                _variable(arg, allowed, loop_vars, used, problems)


def _variable(var, allowed, loop_vars, used, problems) -> None:
    if not isinstance(var, Variable) or var.lookups is None:
        return  # a literal ("texte", 3)
    path = ".".join(var.lookups)
    if path in allowed or path in _FORLOOP and "forloop" in loop_vars:
        used.add(path)
        return
    if var.lookups[0] in loop_vars and len(var.lookups) == 1:
        return
    problems.append(
        f"la variable {{{{ {path} }}}} n'existe pas pour ce message (voir la liste des variables)."
    )


_FRAMING = re.compile(r"\{%\s*(load\s[^%]*|autoescape\s+off|endautoescape)\s*%\}\n?")


def editable_default(source: str) -> str:
    """A default file as a starting text for a town: without the framing tags
    a town's text neither needs nor may use ({% load %}, {% autoescape off %})."""
    return _FRAMING.sub("", source)


# --- the town's overrides at send time ------------------------------------------------


def check_override(name: str, override: Mapping) -> list[tuple[str, str]]:
    """(part, French problem) for a town's {subject, body} of template `name`.
    Checked on each send too: memoised on the texts, so a town's e-mails pay it once."""
    subject, body = override.get("subject"), override.get("body")
    if not all(isinstance(v, str | None) for v in (name, subject, body)):
        return [("", "le sujet et le texte doivent être du texte.")]
    return list(_check_override(name, subject, body))


@lru_cache(maxsize=512)
def _check_override(name: str, subject: str | None, body: str | None) -> tuple:
    override = {k: v for k, v in (("subject", subject), ("body", body)) if v is not None}
    entry = registry().get(name)
    if entry is None:
        return (("", f"modèle de message inconnu (choix : {', '.join(registry())})."),)
    out = []
    variables = entry.all_variables
    if "subject" in override:
        out += [("subject", p) for p in check(override["subject"], variables=variables)]
    if "body" in override:
        out += [
            ("body", p)
            for p in check(override["body"], variables=variables, required=entry.required)
        ]
    return tuple(out)


@lru_cache(maxsize=512)
def _compile(source: str):
    """A town's text compiled once per process (every e-mail of that town reuses it)."""
    return engine().from_string(source)


def render(source: str, context: Mapping) -> str:
    return _compile(source).render(Context(dict(context), autoescape=False))


def render_subject(source: str, context: Mapping) -> str:
    return " ".join(render(source, context).split())[:255]
