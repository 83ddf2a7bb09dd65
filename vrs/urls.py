from django.urls import path, re_path

from . import views

urlpatterns = [
    # The rest of the path is read as sent (percent-encoded) by the view: a lot may hold "/" (%2F).
    re_path(r"^vrs/verify/(?P<rest>.*)$", views.verify, name="vrs_verify"),
    path("vrs/checkConnectivity", views.check_connectivity, name="vrs_check_connectivity"),
]
