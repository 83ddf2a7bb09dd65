"""The project's Celery app and its signals. Sending work (after commit, retried on a lost database, kept while
the broker is down) is the ground floor's: core/queueing.py."""

import os
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init
from prometheus_client import Histogram

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")

app = Celery("serialize_saas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_bad_configuration(**kwargs):
    """A worker with a wrong MASTER_KEY would fail every batch: refuse to start instead."""
    from brands.startup import refuse_bad_configuration

    refuse_bad_configuration()


TASK_SECONDS = Histogram("serialize_task_seconds", "Celery task run time", ["task", "state"])
_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id=None, **kwargs):
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        TASK_SECONDS.labels(task.name, state or "").observe(time.perf_counter() - started)
