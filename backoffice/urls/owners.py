from django.urls import path

from backoffice.views import owners as views

urlpatterns = [
    path("owners/lookup/", views.owner_lookup, name="owner_lookup"),
    path("owners/units/<int:code_id>/", views.owner_unit, name="owner_unit"),
    path("owners/units/<int:code_id>/export/", views.owner_unit_export, name="owner_unit_export"),
    path("owners/units/<int:code_id>/erase/", views.owner_unit_erase, name="owner_unit_erase"),
    path("registrations/", views.registrations, name="registrations"),
    path("registrations/marketing.csv", views.marketing_export, name="registrations_marketing_csv"),
]
