from django.urls import path

from backoffice.views import distributors as views

urlpatterns = [
    path("distributors/", views.distributor_list, name="distributor_list"),
    path("distributors/new/", views.distributor_create, name="distributor_create"),
    path("distributors/<int:distributor_id>/", views.distributor_detail, name="distributor_detail"),
    path("distributors/<int:distributor_id>/edit/", views.distributor_edit, name="distributor_edit"),
    path("distributors/<int:distributor_id>/invite/", views.distributor_invite, name="distributor_invite"),
    path("batches/<int:batch_id>/ranges/", views.batch_ranges, name="batch_ranges"),
    path("batches/<int:batch_id>/ranges/assign/", views.assignment_create, name="assignment_create"),
    path("batches/<int:batch_id>/ranges/move/", views.assignment_move, name="assignment_move"),
    path("batches/<int:batch_id>/cartons/pack/", views.carton_pack, name="carton_pack"),
    path("batches/<int:batch_id>/cartons.csv", views.cartons_csv, name="cartons_csv"),
    path("cartons/<int:carton_id>/assign/", views.carton_assign, name="carton_assign"),
    path("cartons/<int:carton_id>/activate/", views.carton_activate, name="carton_activate"),
    path("cartons/<int:carton_id>/label.pdf", views.carton_label, name="carton_label"),
    path("portal/", views.portal, name="portal"),
    path(
        "portal/assignments/<int:assignment_id>/receive/",
        views.portal_receive_assignment,
        name="portal_receive_assignment",
    ),
    path(
        "portal/assignments/<int:assignment_id>/print/", views.portal_print_job_create, name="portal_print_job_create"
    ),
    path("portal/cartons/<int:carton_id>/receive/", views.portal_receive_carton, name="portal_receive_carton"),
    path("portal/cartons/<int:carton_id>/label.pdf", views.portal_carton_label, name="portal_carton_label"),
    path(
        "portal/print-jobs/<int:print_job_id>/files/<int:part>/",
        views.portal_print_file_download,
        name="portal_print_file_download",
    ),
]
