from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self):
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts import checks, signals  # noqa: F401  (checks: the deploy check)

        # Ours keeps the previous sign-in as well (the header shows it).
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(signals.on_login, dispatch_uid="accounts_on_login")
        user_logged_out.connect(signals.on_logout, dispatch_uid="accounts_on_logout")
