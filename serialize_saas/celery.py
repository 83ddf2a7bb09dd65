import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")

app = Celery("serialize_saas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_bad_configuration(**kwargs):
    """A worker with a wrong MASTER_KEY would fail every batch: refuse to start instead."""
    from brands.startup import refuse_bad_configuration

    refuse_bad_configuration()
