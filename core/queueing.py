"""Sending work to Celery, for every app: retried on a lost database, sent after commit, never at the caller's
expense. The Celery app itself is the project's (serialize_saas/celery.py); this module names no app of ours."""

import logging
from datetime import timedelta

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from prometheus_client import Counter

log = logging.getLogger(__name__)

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


# --- Sending work to the broker -----------------------------------------------------------------------------
# Every task is sent through `enqueue`: after the use case's transaction commits (no task for a rolled-back
# row, no worker reading a row before it exists), and never at the caller's expense. With the broker down the
# send fails within BROKER_CONNECT_SECONDS (settings), is logged and counted, and the task is kept as an
# UnsentTask row that a beat sweep sends once the broker is back; the work's own row (a batch, print part,
# status change, delivery) is the record besides, swept again by its app when no worker started it in time.

UNSENT_TASKS = Counter("serialize_unsent_tasks_total", "Tasks that could not be handed to the broker", ["task"])


def enqueue_on_commit(task, *args) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside one); never raises."""
    transaction.on_commit(lambda: send(task, *args))


def send(task, *args) -> bool:
    """Hand `task(*args)` to the broker now; on failure log it, keep it for the sweep and return False."""
    if task.app.conf.task_always_eager:
        task.apply_async(args)  # runs here: its own errors are the caller's, as they always were
        return True
    try:
        task.apply_async(args)
    except Exception:  # noqa: BLE001 - any broker failure: the request goes on, the sweep sends it later
        log.warning("task not sent: broker unavailable", extra={"task": task.name}, exc_info=True)
        UNSENT_TASKS.labels(task.name).inc()
        _keep_unsent(task.name, list(args))
        return False
    return True


def _keep_unsent(name: str, args: list) -> None:
    try:
        _unsent_model().objects.create(name=name, args=args)
    except Exception:  # noqa: BLE001 - the work's own row is still there for its app's sweep
        log.exception("unsent task not kept", extra={"task": name})


def resend_stalled(queryset, task, *, field: str = "enqueued_at", after: int | None = None) -> list[int]:
    """Send `task(pk)` again for the rows of `queryset` (work not started yet) whose task was sent longer than
    WORK_RESEND_SECONDS (or `after` seconds) ago: its message was lost, or is still waiting behind others, or (with
    `field="heartbeat_at"`) its worker died mid-way; tasks are safe to run twice and resume after committed work.
    Each row is claimed by moving its `field` to now under a skip-locked lock, so two sweeps never both send it
    and a row is sent again at most once per period."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORK_RESEND_SECONDS if after is None else after)
    with transaction.atomic():
        ids = list(
            queryset.filter(**{f"{field}__lt": cutoff})
            .select_for_update(skip_locked=True, of=("self",))  # not the print job a part's filter joins
            .values_list("pk", flat=True)[:1000]
        )
        queryset.model.objects.filter(pk__in=ids).update(**{field: Now()})
    for pk in ids:
        send(task, pk)
    if ids:
        log.info("stalled work sent again", extra={"task": task.name, "count": len(ids)})
    return ids


def send_unsent_tasks(limit: int = 1000) -> int:
    """Send the kept UnsentTasks, oldest first; those the broker still refuses are kept again. Returns how many
    were sent. Rows are taken under a skip-locked lock and deleted, so two sweeps never send one twice."""
    unsent, app = _unsent_model(), current_app
    app.loader.import_default_modules()  # every app's tasks, to find each by name
    with transaction.atomic():
        rows = list(unsent.objects.select_for_update(skip_locked=True)[:limit])
        unsent.objects.filter(pk__in=[row.pk for row in rows]).delete()
    sent = 0
    for row in rows:
        task = app.tasks.get(row.name)
        if task is None:
            log.error("unsent task of unknown name dropped", extra={"task": row.name})
            continue
        sent += send(task, *row.args)
    return sent


def _unsent_model():
    """The model that keeps refused tasks, named in settings (UNSENT_TASK_MODEL) as AUTH_USER_MODEL is: the ground
    floor writes it without importing the app that owns it."""
    return apps.get_model(settings.UNSENT_TASK_MODEL)
