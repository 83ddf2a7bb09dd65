from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/finish/<str:token>/", views.signup_finish, name="signup_finish"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("brands/<slug:slug>/logo", views.brand_logo, name="brand_logo"),
    path("brands/<slug:slug>/theme.css", views.brand_theme, name="brand_theme"),
]
