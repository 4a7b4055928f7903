"""Every Django form on every page wears the design system's classes
(docs/design-system.md): this renderer (settings.FORM_RENDERER) gives each
widget its component class as it is rendered — `.input`, `.select`,
`.textarea`, `.checkbox`, `.radio`, `.file`; lists of choices get `.choices` —
and lays fields out with ui/form.html and ui/field.html (label, help, error).
A class a form sets itself is kept; the component class is added before it."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting

# The widget's template (Django's names) -> its component class.
BY_TEMPLATE = {
    "select.html": "select",
    "select_multiple.html": "select",
    "textarea.html": "textarea",
    "checkbox.html": "checkbox",
    "radio.html": "choices",
    "checkbox_select.html": "choices",
    "radio_option.html": "radio",
    "checkbox_option.html": "checkbox",
    "file.html": "file",
    "clearable_file_input.html": "file",
    "select_option.html": "",
    "hidden.html": "",
    "multiple_hidden.html": "",
}
# Otherwise by the input's type.
BY_TYPE = {
    "hidden": "",
    "checkbox": "checkbox",
    "radio": "radio",
    "file": "file",
    "select": "select",
}
COMPONENT_CLASSES = {"input", "select", "textarea", "checkbox", "radio", "file", "choices"}


def component_class(widget: dict) -> str:
    name = (widget.get("template_name") or "").rsplit("/", 1)[-1]
    if name in BY_TEMPLATE:
        return BY_TEMPLATE[name]
    kind = widget.get("type")
    if kind in BY_TYPE:
        return BY_TYPE[kind]
    return "input" if kind else ""


def dress(widget: dict) -> None:
    """Add the component class to a widget's context (and to its options and
    sub-widgets), keeping the classes already there."""
    css = component_class(widget)
    attrs = widget.setdefault("attrs", {})
    classes = (attrs.get("class") or "").split()
    if css and not COMPONENT_CLASSES & set(classes):
        attrs["class"] = " ".join([css, *classes])
    for _group, options, _index in widget.get("optgroups") or ():
        for option in options:
            dress(option)
    for sub in widget.get("subwidgets") or ():
        dress(sub)


class UIFormRenderer(TemplatesSetting):
    form_template_name = "ui/form.html"
    field_template_name = "ui/field.html"

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if isinstance(widget, dict) and "name" in widget:
            dress(widget)
        return super().render(template_name, context, request=request)


class FollowsChoice:
    """A form mixin: fields that matter only for some values of a choice are
    shown only for those values, with and without JavaScript.

        follows = {"rule": {"days_before": ("days", "time"), "hours_before": ("hours",)}}

    Each following field's wrapper gets `data-show-when="rule=days_before,…"`
    (ui.js shows and hides it as the choice changes) and, when the choice in
    the data (or the initial value) is another one, the HTML `hidden` attribute
    (so a page without JavaScript shows only the chosen kind's fields; its
    « Afficher » button sends the new choice and the page comes back with the
    right fields). `form.chosen("rule")` is the current choice, for templates
    that lay out whole blocks (`{% if form.chosen_kind == "grid" %}`)."""

    follows: dict[str, dict[str, tuple[str, ...]]] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for choice, by_value in self.follows.items():
            chosen = self.chosen(choice)
            users: dict[str, list[str]] = {}
            for value, names in by_value.items():
                for name in names:
                    users.setdefault(name, []).append(value)
            for name, values in users.items():
                if name in self.fields:
                    self.fields[name].show_when = f"{choice}={','.join(values)}"
                    self.fields[name].hidden_now = chosen not in values

    def chosen(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "")
        value = self.initial.get(name, self.fields[name].initial)
        if value is None:
            choices = getattr(self.fields[name], "choices", ())
            value = next((v for v, _ in choices if v != ""), "")
        return str(value)
