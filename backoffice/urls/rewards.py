from django.urls import path

from backoffice.views import rewards as views

urlpatterns = [
    path("owners/rewards/", views.reward_programme, name="reward_programme"),
    path("owners/rewards/balances.csv", views.reward_balances_csv, name="reward_balances_csv"),
]
