from django.urls import path, re_path

from . import distributor_views, views

urlpatterns = [
    # Every GS1 Digital Link with primary key 01; the path is parsed strictly by codes.gs1.
    re_path(r"^01/(?P<rest>.*)$", views.verify, name="verify"),
    path("verify/locate/", views.precise_location, name="verify_locate"),
    path("verify/confirm/", views.confirm_page_view, name="verify_confirm"),
    path("verify/report/", views.counterfeit_report, name="counterfeit_report"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("scans/", views.scan_list, name="scan_list"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:report_id>/photo/", views.report_photo, name="report_photo"),
    path("distributors/", distributor_views.distributor_list, name="distributor_list"),
    path("distributors/<int:distributor_id>/", distributor_views.distributor_detail, name="distributor_detail"),
    path("portal/", distributor_views.portal, name="portal"),
    path("reports/<int:report_id>/erase/", views.report_erase, name="report_erase"),
]
