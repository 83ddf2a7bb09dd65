from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: what every app uses (errors, storage names, throttling, retry on a lost database,
    the replica router). No models; imports Django and nothing of ours."""

    name = "core"
