"""`{% render_card card %}`: renders a contributed DashboardCard
(core.contributions) with the page's context plus `card` and its own keys."""

from django import template
from django.template.loader import get_template

from core import contributions

register = template.Library()


@register.simple_tag(takes_context=True)
def render_card(context, card):
    with context.push(card=card, **card.context):
        return get_template(card.template).template.render(context)


@register.simple_tag(takes_context=True)
def family_nav(context):
    """`{% family_nav as entries %}`: the family menu (core.contributions.family_nav)."""
    return contributions.family_nav(context["request"])
