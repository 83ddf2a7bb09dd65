from django.urls import path, re_path

from . import alert_views, dashboard_views, distributor_views, recall_views, views

urlpatterns = [
    # Every GS1 Digital Link with primary key 01; the path is parsed strictly by codes.gs1.
    re_path(r"^01/(?P<rest>.*)$", views.verify, name="verify"),
    # Codes of products without a GTIN (Serialize product refs): Digital Link-style, parsed by codes.gs1 too.
    re_path(r"^p/(?P<rest>.*)$", views.verify, name="verify_ref"),
    path("verify/locate/", views.precise_location, name="verify_locate"),
    path("verify/confirm/", views.confirm_page_view, name="verify_confirm"),
    path("verify/report/", views.counterfeit_report, name="counterfeit_report"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("scans/", dashboard_views.scan_list, name="scan_list"),
    path("scans/export.csv", dashboard_views.scan_export, name="scan_export"),
    path("codes/lookup/", dashboard_views.code_lookup, name="code_lookup"),
    path("codes/<int:code_id>/", dashboard_views.code_detail, name="code_detail"),
    path("codes/<int:code_id>/clear-copy-flag/", dashboard_views.code_clear_copy_flag, name="code_clear_copy_flag"),
    path("reports/", dashboard_views.report_list, name="report_list"),
    path("reports/<int:report_id>/status/", dashboard_views.report_status, name="report_status"),
    path("reports/<int:report_id>/photo/", dashboard_views.report_photo, name="report_photo"),
    path("distributors/", distributor_views.distributor_list, name="distributor_list"),
    path("distributors/<int:distributor_id>/", distributor_views.distributor_detail, name="distributor_detail"),
    path("portal/", distributor_views.portal, name="portal"),
    path("reports/<int:report_id>/erase/", dashboard_views.report_erase, name="report_erase"),
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/<int:alert_id>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/move/", alert_views.alert_move, name="alert_move"),
    path("settings/detection/", alert_views.detection_settings, name="detection_settings"),
    path("recalls/", recall_views.recall_list, name="recall_list"),
    path("recalls/new/", recall_views.recall_create, name="recall_create"),
    path("status-changes/new/", recall_views.status_change_create, name="status_change_create"),
    path("recalls/<int:recall_id>/", recall_views.recall_detail, name="recall_detail"),
    path("recalls/<int:recall_id>/progress/", recall_views.recall_progress, name="recall_progress"),
    path("recalls/<int:recall_id>/report.csv", recall_views.recall_report_csv, name="recall_report"),
    path("recalls/<int:recall_id>/undo/", recall_views.recall_undo, name="recall_undo"),
    path("recalls/<int:recall_id>/resume/", recall_views.recall_resume, name="recall_resume"),
]
