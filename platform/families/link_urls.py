"""Account linking's pages (families.link_views). portal/urls_tenant.py mounts
them under « compte/ » in the `accounts` namespace, next to accounts' own pages:
their addresses and names are those of « Mon compte »."""

from django.urls import path

from families import link_views

urlpatterns = [
    path("declarer-mes-enfants/", link_views.declare_children_view, name="declare-children"),
    path("agents/cles/", link_views.staff_keys_view, name="staff_keys"),
    path("agents/cles/<int:adult_id>/", link_views.staff_issue_key_view, name="staff_issue_key"),
]
