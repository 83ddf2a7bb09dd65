from django.apps import AppConfig


class BrandsConfig(AppConfig):
    name = "brands"

    def ready(self):
        from . import checks  # noqa: F401 - registers the fail-loud configuration checks
