from django.urls import path

from . import print_views, views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:product_id>/batches/new/", views.batch_order, name="batch_order"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:batch_id>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:batch_id>/retry/", views.batch_retry, name="batch_retry"),
    path("batches/<int:batch_id>/activate/", views.batch_activate, name="batch_activate"),
    path("batches/<int:batch_id>/print-jobs/new/", print_views.print_job_create, name="print_job_create"),
    path(
        "print-jobs/<int:print_job_id>/files/<int:part>/", print_views.print_file_download, name="print_file_download"
    ),
]
