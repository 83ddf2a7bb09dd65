from django.urls import path

from . import views

urlpatterns = [
    path("register/<str:token>/", views.register, name="owner_register"),
]
