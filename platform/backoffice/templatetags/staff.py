"""The staff navigation, from the apps' contributions (core.contributions)."""

from django import template

from core.contributions import staff_nav as collect

register = template.Library()


@register.inclusion_tag("backoffice/_staff_nav.html", takes_context=True)
def staff_nav(context):
    request = context.get("request")
    return {"entries": collect(request) if request is not None else []}
