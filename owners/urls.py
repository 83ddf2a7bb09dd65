from django.urls import path

from . import views

urlpatterns = [
    path("register/<str:token>/", views.register, name="owner_register"),
    path("my-registration/", views.my_registration_request, name="my_registration_request"),
    path("my-registration/<str:token>/", views.my_registration, name="my_registration"),
    path("my-registration/<str:token>/export.json", views.my_registration_export, name="my_registration_export"),
]
