from django.urls import path

from backoffice.views import scans as views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("scans/", views.scan_list, name="scan_list"),
    path("scans/export.csv", views.scan_export, name="scan_export"),
    path("codes/lookup/", views.code_lookup, name="code_lookup"),
    path("codes/<int:code_id>/", views.code_detail, name="code_detail"),
    path("codes/<int:code_id>/clear-copy-flag/", views.code_clear_copy_flag, name="code_clear_copy_flag"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:report_id>/status/", views.report_status, name="report_status"),
    path("reports/<int:report_id>/photo/", views.report_photo, name="report_photo"),
    path("reports/<int:report_id>/erase/", views.report_erase, name="report_erase"),
]
