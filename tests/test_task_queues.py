"""Celery queues per kind of work: each task goes to its kind's queue, and the one-worker set-ups (bin/run,
docker-compose.yml, the tests' worker) consume every queue, so nothing waits for a worker that is not there."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from serialize_saas.celery import app
from tests.processes import Worker, wait_for

ROOT = Path(__file__).resolve().parent.parent
QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_each_kind_of_work_has_its_queue():
    assert queue_of("codes.tasks.render_print_part_task") == "print"
    assert queue_of("scans.tasks.record_findings_task") == "alerts"
    assert queue_of("notifications.tasks.deliver_webhook_task") == "webhooks"
    assert queue_of("scans.tasks.apply_retention_task") == "housekeeping"
    assert queue_of("codes.tasks.apply_change_task") == "celery"  # recalls: never behind a print job


def test_every_task_goes_to_a_queue_the_workers_consume():
    app.loader.import_default_modules()
    apps = {"brands", "codes", "distributors", "notifications", "scans"}
    ours = [name for name in app.tasks if name.split(".")[0] in apps]
    assert len(ours) >= 9
    assert {name: queue_of(name) for name in ours if queue_of(name) not in QUEUES} == {}


def test_the_one_worker_commands_do_not_narrow_the_queues():
    for path in ("bin/run", "docker-compose.yml", "tests/processes.py"):
        worker_lines = [line for line in (ROOT / path).read_text().splitlines() if "worker" in line]
        assert worker_lines and not any(re.search(r"(-Q\b|--queues)", line) for line in worker_lines), path


@pytest.mark.worker
def test_a_worker_started_as_usual_consumes_every_queue(db):
    worker = Worker().start()
    try:
        # A loaded machine may answer the first broadcast late: ask until the worker replies.
        replies = wait_for(lambda: app.control.inspect(timeout=2).active_queues(), timeout=60)
    finally:
        worker.stop()
    assert {queue["name"] for queues in replies.values() for queue in queues} == QUEUES
