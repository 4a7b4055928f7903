"""The staff navigation, from the apps' contributions (core.contributions)."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("backoffice/_staff_nav.html", takes_context=True)
def staff_nav(context):
    from core.contributions import staff_nav as collect

    request = context.get("request")
    if request is None or not getattr(request.user, "is_town_staff", False):
        return {"entries": []}
    path = request.path
    entries = []
    for entry in collect(request):
        url = reverse(entry.url_name)
        current = (entry.match and entry.match in path) or path == url
        entries.append({"label": entry.label, "url": url, "current": current})
    return {"entries": entries}
