from django.urls import path

from backoffice.views import api_keys
from backoffice.views import brands as views

urlpatterns = [
    path("brands/new/", views.brand_create, name="brand_create"),
    path("brands/switch/", views.brand_switch, name="brand_switch"),
    path("settings/", views.brand_settings, name="brand_settings"),
    path("settings/delete/", views.brand_delete, name="brand_delete"),
    path("settings/delete/export/", views.brand_export_download, name="brand_export_download"),
    path("account/", views.profile, name="profile"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("settings/prefixes/", views.prefix_claim, name="prefix_claim"),
    path("settings/prefixes/<int:claim_id>/evidence/", views.prefix_evidence, name="prefix_evidence"),
    path("settings/registration/", views.registration_claim, name="registration_claim"),
    path("settings/api-keys/", api_keys.api_keys, name="api_keys"),
    path("settings/api-keys/<int:api_key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("staff/claims/", views.review_list, name="review_list"),
    path("staff/claims/<int:claim_id>/", views.review_claim, name="review_claim"),
    path("staff/claims/<int:claim_id>/evidence/", views.review_evidence, name="review_evidence"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/remove/", views.membership_remove, name="membership_remove"),
]
