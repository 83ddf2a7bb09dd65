from django.apps import AppConfig


class VrsConfig(AppConfig):
    name = "vrs"
    verbose_name = "DSCSA verification responder"
    default_auto_field = "django.db.models.BigAutoField"
