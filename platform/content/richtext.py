"""Rich text written by town staff, sanitised with nh3 (Rust's ammonia) BEFORE it
is stored: templates print `body|safe` only because this ran on the way in.

Allowed: paragraphs, headings h2-h4, lists, emphasis, links (http, https,
mailto, tel), simple tables, quotes. Everything else (scripts, styles, event
handlers, iframes, images from other sites) is removed.
"""

import nh3

TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "abbr",
    "hr",
}
ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize(html: str) -> str:
    return nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
