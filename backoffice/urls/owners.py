from django.urls import path

from backoffice.views import owners as views

urlpatterns = [
    path("owners/lookup/", views.owner_lookup, name="owner_lookup"),
    path("owners/units/<int:code_id>/", views.owner_unit, name="owner_unit"),
]
