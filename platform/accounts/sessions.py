"""Session helpers shared by views and signals."""

from __future__ import annotations

from accounts import services


def rotate_session(request) -> None:
    """New session id, same content; the account's session list follows."""
    old = request.session.session_key
    request.session.cycle_key()
    if request.user.is_authenticated:
        services.track_session(
            user=request.user,
            session_key=request.session.session_key,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            replaces=old,
        )
