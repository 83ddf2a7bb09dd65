from django.urls import path

from . import views

urlpatterns = [
    path("notifications/confirm/<str:token>/", views.subscription_confirm, name="subscription_confirm"),
    path("notifications/unsubscribe/<str:token>/", views.subscription_unsubscribe, name="subscription_unsubscribe"),
]
