from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's seeding command (`seed_demo`): it fills every app, so it stands on top of them all, beside the
    project package, never inside a domain app."""

    name = "demo"
