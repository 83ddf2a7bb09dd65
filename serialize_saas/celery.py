import os
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init
from django.db.utils import InterfaceError, OperationalError
from prometheus_client import Histogram

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")

app = Celery("serialize_saas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task whose database connection went away mid-way (a PostgreSQL restart or failover) is run again on a new
# connection after a short wait (2, 4, 8 … 60 s): every task is safe to repeat and resumes after its committed
# work, so a restart costs a pause, not a batch stuck half-way. Spread into @shared_task(...).
LOST_DATABASE = (OperationalError, InterfaceError)
RETRY_ON_LOST_DATABASE = {
    "autoretry_for": LOST_DATABASE,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_kwargs": {"max_retries": 10},
}


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
