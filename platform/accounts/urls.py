from django.urls import path

from accounts import fc_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.account_view, name="account"),
    path("connexion/", views.login_view, name="login"),
    path("cle/", views.key_later_view, name="key-later"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("franceconnect/", fc_views.fc_login_view, name="fc_login"),
    path("franceconnect/retour/", fc_views.fc_callback_view, name="fc_callback"),
    path("franceconnect/premiere-connexion/", fc_views.fc_first_view, name="fc_first"),
    path("franceconnect/deconnecte/", fc_views.fc_logged_out_view, name="fc_logged_out"),
    path("creer/", views.signup_view, name="signup"),
    path("creer/verifiez-vos-e-mails/", views.signup_done, name="signup_done"),
    path("confirmer/<str:token>/", views.confirm_email_view, name="confirm_email"),
    path("mot-de-passe-oublie/", views.password_reset_view, name="password_reset"),
    path("mot-de-passe-oublie/envoye/", views.password_reset_done, name="password_reset_done"),
    path(
        "reinitialiser/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reinitialiser/termine/", views.password_reset_complete, name="password_reset_complete"),
    path("mot-de-passe/", views.password_change_view, name="password_change"),
    path("identifiants/", views.identifiers_view, name="identifiers"),
    path(
        "sessions/deconnecter-les-autres/", views.end_other_sessions_view, name="end_other_sessions"
    ),
    path("double-authentification/", views.otp_setup_view, name="otp_setup"),
    path("double-authentification/code/", views.otp_verify_view, name="otp_verify"),
]
