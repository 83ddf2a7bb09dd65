from django.apps import AppConfig


class DistributorsConfig(AppConfig):
    name = "distributors"
