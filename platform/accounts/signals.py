"""Receivers wired in AccountsConfig.ready."""

from accounts import services


def on_login(sender, request, user, **kwargs):
    services.record_login(user=user)
    if request is not None and hasattr(request, "session"):
        services.track_session(
            user=user,
            session_key=request.session.session_key,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


def on_logout(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.forget_session(session_key=request.session.session_key)
