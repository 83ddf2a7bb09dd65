from django.urls import path

from backoffice.views import recalls as views

urlpatterns = [
    path("recalls/", views.recall_list, name="recall_list"),
    path("recalls/new/", views.recall_create, name="recall_create"),
    path("status-changes/new/", views.status_change_create, name="status_change_create"),
    path("recalls/<int:recall_id>/", views.recall_detail, name="recall_detail"),
    path("recalls/<int:recall_id>/progress/", views.recall_progress, name="recall_progress"),
    path("recalls/<int:recall_id>/report.csv", views.recall_report_csv, name="recall_report"),
    path("recalls/<int:recall_id>/undo/", views.recall_undo, name="recall_undo"),
    path("recalls/<int:recall_id>/resume/", views.recall_resume, name="recall_resume"),
]
