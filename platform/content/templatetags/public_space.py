"""`{% public_space_home %}` on the town's home page: latest news, this week's
menus, practical pages and the legal links (core/templates/core/town_home.html)."""

from django import template

from content import selectors

register = template.Library()


@register.inclusion_tag("content/_home.html", takes_context=True)
def public_space_home(context):
    monday = selectors.parse_week(None)
    return {
        "commune": context.get("commune"),
        "news": selectors.public_news()[:3],
        "has_menus": selectors.public_menus(monday).exists(),
        "pages": selectors.public_pages()[:8],
        "has_reglements": selectors.public_reglements().exists(),
    }
