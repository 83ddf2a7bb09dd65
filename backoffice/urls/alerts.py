from django.urls import path

from backoffice.views import alerts as views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/move/", views.alert_move, name="alert_move"),
    path("settings/detection/", views.detection_settings, name="detection_settings"),
]
