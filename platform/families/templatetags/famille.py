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
