from django.urls import path

from backoffice.views import codes, imports, printing

urlpatterns = [
    path("products/", codes.product_list, name="product_list"),
    path("products/new/", codes.product_create, name="product_create"),
    path("products/<int:product_id>/", codes.product_detail, name="product_detail"),
    path("products/<int:product_id>/edit/", codes.product_edit, name="product_edit"),
    path("products/<int:product_id>/links/new/", codes.product_link_add, name="product_link_add"),
    path("product-links/<int:link_id>/remove/", codes.product_link_remove, name="product_link_remove"),
    path("products/<int:product_id>/batches/new/", codes.batch_order, name="batch_order"),
    path("products/<int:product_id>/imports/new/", imports.import_new, name="import_new"),
    path("imports/<int:import_id>/", imports.import_detail, name="import_detail"),
    path("imports/<int:import_id>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:import_id>/refused.csv", imports.import_report, name="import_report"),
    path("imports/<int:import_id>/retry/", imports.import_retry, name="import_retry"),
    path("batches/", codes.batch_list, name="batch_list"),
    path("batches/<int:batch_id>/", codes.batch_detail, name="batch_detail"),
    path("batches/<int:batch_id>/progress/", codes.batch_progress, name="batch_progress"),
    path("batches/<int:batch_id>/retry/", codes.batch_retry, name="batch_retry"),
    path("batches/<int:batch_id>/activate/", codes.batch_activate, name="batch_activate"),
    path("batches/<int:batch_id>/print-jobs/new/", printing.print_job_create, name="print_job_create"),
    path("print-jobs/<int:print_job_id>/files/<int:part>/", printing.print_file_download, name="print_file_download"),
]
