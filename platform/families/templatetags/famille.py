from django import template

register = template.Library()


@register.filter
def actor_for_family(event, user) -> str:
    """Who wrote a history line, as a family sees it (agents stay anonymous)."""
    actor = event.actor
    if actor is None:
        return "Services de la mairie"
    if actor.pk == user.pk:
        return "Vous"
    if actor.is_town_staff:
        return "Services de la mairie"
    return actor.get_full_name() or "Un membre du foyer"


@register.filter
def yesno_fr(value) -> str:
    return "oui" if value else "non"


@register.filter
def person_name(user, empty: str = "—") -> str:
    if user is None:
        return empty
    return user.get_full_name() or user.username


@register.inclusion_tag("families/_family_nav.html", takes_context=True)
def family_nav(context):
    """The family space's navigation, the same on every family page: the
    entries every enabled app contributes (core.contributions), none named here."""
    from core.contributions import family_nav as entries

    request = context["request"]
    path = request.path_info.lstrip("/")
    items, current = [], None
    for e in entries(request):
        url = e.url
        if not url:
            continue
        items.append({"label": e.label, "url": url, "match": e.match})
        if e.match and current is None:
            import re

            if re.match(e.match, path):
                current = e.label
    return {"items": items, "current": current}
