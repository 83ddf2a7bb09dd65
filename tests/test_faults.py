"""Faults production meets, survived without a restart: the database dropping every connection under a running
web server and worker, and a worker killed in the middle of each kind of task. Real processes throughout
(gunicorn through bin/serve, Celery workers on the test Redis); they run in the normal suite."""

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from django.conf import settings
from django.db import connection

from codes import services as code_services
from codes.models import BatchState, Code, CodeBatch
from scans.models import Scan
from tests.factories import LotFactory, MembershipFactory, ProductFactory, ready_batch
from tests.processes import ROOT, Worker, env_for_test_database, purge_queue, wait_for
from tests.test_serving import _listening, fetch, free_port, serve_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def drop_every_database_connection() -> int:
    """What a PostgreSQL restart (or failover, or an idle-connection reaper) does to the app: every server
    connection to its database is gone, and each process finds out on its next query. Done by terminating the
    backends of the test database only, so nobody else on the server is disturbed; this process's own
    connection is kept, as the suite goes on using it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


# A phone: urllib's own user agent is a bot to the verify page, whose visits are not scans.
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile"


def session_cookie(membership) -> str:
    from tests.factories import logged_in_client

    return "sessionid=" + logged_in_client(membership).cookies[settings.SESSION_COOKIE_NAME].value


def test_web_and_worker_carry_on_after_the_database_drops_every_connection(tmp_path):
    owner = MembershipFactory()
    product = ProductFactory(brand=owner.brand, gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=2, activated=True)).first()
    port = free_port()
    # The test's SECRET_KEY, so the server accepts the session made here (its hash is keyed with it).
    env = serve_env(tmp_path, port, SECRET_KEY=settings.SECRET_KEY)
    log_file = tmp_path / "serve.log"
    purge_queue(env_for_test_database())
    worker = Worker().start()
    with log_file.open("w") as log:
        server = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603, S607
    base, cookie = f"http://127.0.0.1:{port}", session_cookie(owner)
    verify = f"{base}/01/{product.gtin}/21/{code.serial}"
    try:
        wait_for(lambda: server.poll() is not None or (_listening(port) and fetch(base + "/healthz")[0] == 200), 120)
        assert server.poll() is None, log_file.read_text()[-3000:]
        # The web worker keeps its connection between requests (CONN_MAX_AGE); the Celery worker opens one per
        # task (Celery's Django fixup closes it around each), so its next task must simply connect again.
        assert json.loads(fetch(verify, Accept="application/json", **{"User-Agent": PHONE})[1])["first_scan"] is True
        first = code_services.order_batch(product=product, lot=LotFactory(product=product), quantity=100)
        wait_for(lambda: CodeBatch.objects.get(pk=first.pk).state == BatchState.READY, 60)

        assert drop_every_database_connection() >= 1  # the web worker's

        status, body, _ = fetch(verify, Accept="application/json", **{"User-Agent": PHONE})
        answer = json.loads(body)
        assert status == 200 and answer["authentic"] is True and answer["first_scan"] is False, answer
        assert Scan.objects.filter(code_id=code.pk).count() == 2
        assert drop_every_database_connection() >= 1  # again: a page takes the whole stack, not verify's path
        status, body, _ = fetch(base + "/dashboard/", Cookie=cookie)
        assert status == 200 and owner.brand.name.encode() in body, body[:500]
        second = code_services.order_batch(product=product, lot=LotFactory(product=product), quantity=100)
        wait_for(lambda: CodeBatch.objects.get(pk=second.pk).state == BatchState.READY, 60)
        assert worker.process.poll() is None and server.poll() is None
    finally:
        worker.stop()
        server.terminate()
        server.wait(20)
    text = log_file.read_text()
    assert text.count("Booting worker") == 1, text[-3000:]  # the same web worker answered before and after


def test_a_batch_being_generated_when_the_database_drops_every_connection_resumes_to_exactly_n_codes():
    """The worker's connection dies mid-task: the task runs again on a new one and resumes after the last
    committed chunk (it used to fail, and could not even mark the batch failed: it stayed 'generating')."""
    product = ProductFactory()
    purge_queue(env_for_test_database())
    worker = Worker(CODES_CHUNK_SIZE=5_000).start()
    try:
        batch = code_services.order_batch(product=product, lot=LotFactory(product=product), quantity=150_000)
        wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).codes_done >= 10_000, 120, interval=0.05)
        assert drop_every_database_connection() >= 1  # the worker's, in the middle of the batch
        assert CodeBatch.objects.get(pk=batch.pk).codes_done < 150_000
        wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).state == BatchState.READY, 180)
        assert worker.process.poll() is None
    finally:
        worker.stop()
    assert sorted(Code.objects.filter(batch=batch).values_list("ordinal", flat=True)) == list(range(150_000))


# --- A worker killed mid-task ----------------------------------------------------------------------------
# Tasks are acknowledged late: a worker SIGKILLed mid-task leaves its task unacknowledged, and Redis hands it
# to the next worker once the visibility timeout (shortened here to 3 s) has passed. Each test kills the worker
# in the middle of the work and checks that the replacement ends with exactly the right outcome.

REDELIVER_AFTER = {"CELERY_VISIBILITY_TIMEOUT": 3}


def killed_mid_task_and_redelivered(enqueue, in_the_middle, finished, **env):
    """Start a worker, `enqueue()`, SIGKILL the worker once `in_the_middle()` holds, then let a fresh worker
    pick the task up again and wait until `finished()`. Returns what `in_the_middle()` saw at the kill."""
    env = {**REDELIVER_AFTER, **env}
    purge_queue(env_for_test_database())
    first = Worker(**env).start()
    try:
        enqueue()
        seen = wait_for(in_the_middle, 120, interval=0.02)
    finally:
        first.kill()
    second = Worker(**env).start()
    try:
        wait_for(finished, 180)
    finally:
        second.stop()
    return seen


def test_a_print_job_whose_worker_is_killed_mid_part_ends_with_exactly_its_files():
    from codes import printing
    from codes.models import PrintFile, PrintFileState, PrintJob, PrintState
    from tests.codes.test_printing import part_bytes, stored_files

    batch = ready_batch(quantity=6_000)
    jobs = []
    killed_mid_task_and_redelivered(
        lambda: jobs.append(printing.create_print_job(batch=batch, fmt="qr-svg", part_size=3_000)),
        lambda: jobs and PrintFile.objects.filter(job=jobs[0], state=PrintFileState.RENDERING).exists(),
        lambda: PrintJob.objects.get(pk=jobs[0].pk).is_finished,
    )
    job = PrintJob.objects.get(pk=jobs[0].pk)
    assert job.state == PrintState.READY and job.codes_done == 6_000
    assert stored_files(job) == sorted(job.files.values_list("name", flat=True))  # two parts, one manifest
    manifest = json.loads(part_bytes(job, part=PrintFile.MANIFEST))
    for entry in manifest["files"]:
        data = part_bytes(job, part=entry["part"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 3_000


def test_a_recall_whose_worker_is_killed_mid_way_changes_every_unit_once():
    from codes import recalls
    from codes.models import ChangeState, StatusChange

    batch = ready_batch(quantity=60_000)
    done_at_kill = killed_mid_task_and_redelivered(
        lambda: recalls.recall(brand=batch.product.brand, batch=batch, reason="Seal defect"),
        lambda: StatusChange.objects.filter(codes_done__gte=4_000).values_list("codes_done", flat=True).first(),
        lambda: StatusChange.objects.filter(state=ChangeState.DONE).exists(),
        CODES_CHUNK_SIZE=2_000,
    )
    change = StatusChange.objects.get()
    assert done_at_kill < 60_000
    assert (change.codes_done, change.codes_changed, change.from_counts) == (60_000, 60_000, {"not_activated": 60_000})
    assert Code.objects.filter(batch=batch, status="recalled").count() == 60_000


def test_a_webhook_whose_worker_is_killed_mid_post_is_sent_again_with_the_same_event(settings):
    """At least once: the receiver may see an event twice (same body, same event id, same delivery id) and
    dedupes by the id; the delivery's log holds the one attempt that got an answer."""
    from notifications import services
    from notifications.models import DeliveryState, WebhookAttempt, WebhookDelivery
    from tests.conftest import Receiver
    from tests.factories import BrandFactory, webhook_of

    brand = BrandFactory()
    receiver = Receiver(held=1)
    webhook_of(brand, url=receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    try:
        killed_mid_task_and_redelivered(
            lambda: services.publish(brand_id=brand.pk, event="alert.opened", data={"alert": 1}),
            lambda: len(receiver.requests) == 1,
            lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists(),
            WEBHOOK_ALLOW_PRIVATE=1,
        )
    finally:
        receiver.close()
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == 2 and receiver.requests[0][1] == receiver.requests[1][1]
    assert {headers["Serialize-Delivery"] for headers, _ in receiver.requests} == {str(delivery.pk)}
    assert delivery.attempts == 1 and [a.status_code for a in WebhookAttempt.objects.all()] == [200]


class SmtpServer:
    """A mail server on 127.0.0.1 (the outside world): accepts messages; the first `held` get no answer to their
    DATA until `release` is set, and are not accepted if the sender is gone by then (RFC 5321: a message is the
    server's only once it has said 250)."""

    def __init__(self, held=0):
        import socketserver
        import threading

        self.accepted, self.received, self.release = [], 0, threading.Event()
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 localhost ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 end with .\r\n")
                        message = b""
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            message += data
                        smtp.received += 1
                        if smtp.received <= held:
                            smtp.release.wait(60)
                            return  # the sender was killed meanwhile: nothing accepted
                        smtp.accepted.append(message)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_an_event_mail_whose_worker_is_killed_mid_send_is_sent_once():
    from notifications import services
    from tests.factories import BrandFactory, email_subscription_of

    brand = BrandFactory(name="Mailed Brand")
    email_subscription_of(brand, "alerts@example.com")
    smtp = SmtpServer(held=1)
    try:
        killed_mid_task_and_redelivered(
            lambda: services.publish(brand_id=brand.pk, event="recall.created", data={"recall": 7}),
            lambda: smtp.received == 1,
            lambda: smtp.accepted,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=smtp.port,
            EMAIL_USE_TLS=0,
        )
    finally:
        smtp.close()
    [message] = smtp.accepted
    assert b"Subject: [Serialize] Mailed Brand: A recall was started" in message and b"/recalls/7/" in message


def brand_with_codes(quantity: int):
    owner = MembershipFactory()
    return owner, ready_batch(ProductFactory(brand=owner.brand), quantity=quantity)


def export_files() -> set[str]:
    from django.core.files.storage import default_storage

    from brands.offboarding import EXPORT_FOLDER

    return (
        {f"{EXPORT_FOLDER}/{n}" for n in default_storage.listdir(EXPORT_FOLDER)[1]}
        if default_storage.exists(EXPORT_FOLDER)
        else set()
    )


def test_a_brand_export_whose_worker_is_killed_mid_way_ends_as_one_whole_zip():
    from django.core.files.storage import default_storage

    from brands import offboarding
    from brands.models import BrandDeletion

    owner, batch = brand_with_codes(80_000)
    brand, before = owner.brand, export_files()
    killed_mid_task_and_redelivered(
        lambda: offboarding.request_deletion(brand=brand, requested_by=owner.user, confirm_slug=brand.slug),
        lambda: BrandDeletion.objects.filter(brand=brand, exported_at__isnull=True).exclude(export_name="").exists(),
        lambda: BrandDeletion.objects.filter(brand=brand, exported_at__isnull=False).exists(),
    )
    deletion = BrandDeletion.objects.get(brand=brand)
    assert export_files() - before == {deletion.export_name}
    with default_storage.open(deletion.export_name, "rb") as handle, zipfile.ZipFile(handle) as export:
        assert export.read("codes/code.csv").count(b"\n") == 80_001


def test_a_brand_deletion_whose_worker_is_killed_mid_way_is_finished_by_the_next_worker():
    from datetime import timedelta

    from django.utils import timezone

    from brands import offboarding
    from brands.models import Brand, BrandDeletion
    from brands.tasks import delete_due_brands_task

    owner, batch = brand_with_codes(80_000)
    brand = owner.brand
    offboarding.request_deletion(brand=brand, requested_by=owner.user, confirm_slug=brand.slug, enqueue=False)
    offboarding.export_brand(brand.pk)
    BrandDeletion.objects.filter(brand=brand).update(delete_after=timezone.now() - timedelta(minutes=1))
    codes = Code.objects.filter(product_id=batch.product_id)
    killed_mid_task_and_redelivered(
        delete_due_brands_task.delay,
        lambda: 0 < codes.count() < 80_000,
        lambda: not Brand.objects.filter(pk=brand.pk).exists(),
    )
    assert not codes.exists()
    assert not any(offboarding.rows_of(m, brand.pk).exists() for m in offboarding.brand_owned_models())


def test_a_serial_import_whose_worker_is_killed_mid_way_registers_exactly_the_good_lines_once():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from codes import imports
    from codes.models import ImportState, RefusedLine, SerialImport

    product = ProductFactory()
    lines = [f"UNIT-{n:08d}" if n % 101 else f"UNIT {n}" for n in range(1, 200_001)]  # every 101st: a space
    lines[150_000] = lines[10]  # a repeat, chunks apart
    good = [s for i, s in enumerate(lines) if " " not in s and i != 150_000]
    started = []
    at_kill = killed_mid_task_and_redelivered(
        lambda: started.append(
            imports.start_import(
                brand=product.brand,
                product=product,
                lot_number="KILLED",
                upload=SimpleUploadedFile("s.csv", "\n".join(lines).encode()),
                fmt="csv",
            )
        ),
        lambda: (
            SerialImport.objects.filter(lines_accepted__gte=20_000).values_list("lines_accepted", flat=True).first()
        ),
        lambda: SerialImport.objects.filter(state=ImportState.DONE).exists(),
        IMPORT_CHUNK_LINES=2_000,
    )
    serial_import = SerialImport.objects.get()
    assert at_kill < len(good)
    assert (serial_import.codes_done, serial_import.lines_accepted) == (200_000, len(good))
    codes = list(Code.objects.filter(batch=serial_import.batch).order_by("ordinal").values_list("serial", flat=True))
    assert codes == good and serial_import.batch.quantity == len(good)
    refused = list(RefusedLine.objects.filter(serial_import=serial_import).values_list("line", flat=True))
    assert sorted(refused) == sorted([n for n in range(1, 200_001) if n % 101 == 0] + [150_001])
    assert serial_import.lines_refused == len(refused)
