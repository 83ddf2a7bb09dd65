"""Celery queues per kind of work: each task goes to its kind's queue, and the default set-ups (bin/run,
docker-compose.yml) consume every queue between their two workers (outbound webhooks and e-mail on their own), so
nothing waits for a worker that is not there; the tests' worker takes every queue."""

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
    assert queue_of("notifications.tasks.send_event_email_task") == "mail"
    assert queue_of("owners.tasks.send_recall_notice_task") == "mail"  # recall e-mails to owners
    assert queue_of("scans.tasks.apply_retention_task") == "housekeeping"
    assert queue_of("codes.tasks.apply_change_task") == "celery"  # recalls: never behind a print job


def test_every_task_goes_to_a_queue_the_workers_consume():
    app.loader.import_default_modules()
    apps = {"brands", "codes", "distributors", "notifications", "owners", "scans"}
    ours = [name for name in app.tasks if name.split(".")[0] in apps]
    assert len(ours) >= 9
    assert {name: queue_of(name) for name in ours if queue_of(name) not in QUEUES} == {}


def worker_queues(path: str) -> list[set[str]]:
    """The queues of each `celery … worker` a set-up starts (every queue when it names none)."""
    text = (ROOT / path).read_text().replace("\\\n", " ")
    workers = [line for line in text.splitlines() if re.search(r"celery.*\bworker\b", line)]
    found = []
    for line in workers:
        named = re.search(r"-Q\W+([\w,]+)", line)
        found.append(set(named.group(1).split(",")) if named else set(QUEUES))
    return found


def test_the_default_set_ups_consume_every_queue_with_outbound_work_on_a_worker_of_its_own():
    """Webhooks and e-mail wait on other people's servers: a slow one must never hold a batch's or recall's slot."""
    outbound = {"webhooks", "mail"}
    for path in ("bin/run", "docker-compose.yml"):
        workers = worker_queues(path)
        assert set().union(*workers) == QUEUES, path
        assert all(queues == outbound or not queues & outbound for queues in workers), path
        assert any(queues == outbound for queues in workers), path
    assert Worker().queues == []  # the tests' worker takes every queue unless told


@pytest.mark.worker
def test_a_worker_started_as_usual_consumes_every_queue(db):
    worker = Worker().start()
    try:
        # A loaded machine may answer the first broadcast late: ask until the worker replies.
        replies = wait_for(lambda: app.control.inspect(timeout=2).active_queues(), timeout=60)
    finally:
        worker.stop()
    assert {queue["name"] for queues in replies.values() for queue in queues} == QUEUES


def test_every_task_is_sent_through_the_one_guarded_helper():
    """A bare `.delay()` / `.apply_async()` fails or stalls its request when the broker is down (issue 18):
    only core/queueing.py sends tasks, everything else calls `enqueue_on_commit`."""
    apps = (
        "core",
        "brands",
        "codes",
        "distributors",
        "notifications",
        "scans",
        "backoffice",
        "api",
        "demo",
        "serialize_saas",
    )
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for app_dir in apps
        for path in (ROOT / app_dir).rglob("*.py")
        if path != ROOT / "core" / "queueing.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.(delay|apply_async|send_task)\(", line)
    ]
    assert bare == []
