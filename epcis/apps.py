from django.apps import AppConfig


class EpcisConfig(AppConfig):
    name = "epcis"
    verbose_name = "EPCIS events"
