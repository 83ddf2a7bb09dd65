from django.urls import path

from backoffice.views import vrs as views

urlpatterns = [
    path("verification-requests/", views.request_list, name="vrs_request_list"),
]
