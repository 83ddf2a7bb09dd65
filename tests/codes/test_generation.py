import os
import signal
import subprocess
import sys
import threading

import pytest
from django.db import connection

from codes import services
from codes.models import BatchState, Code, CodeBatch
from tests.factories import LotFactory, ProductFactory, ready_batch
from tests.processes import ROOT, Worker, env_for_test_database, purge_queue, wait_for


def codes_of(batch):
    return Code.objects.filter(batch=batch)


def test_generated_codes_are_the_codec_serials_of_the_batch_ordinals(db):
    batch = ready_batch(quantity=1_234)
    codec = services.codec_for(batch.product)
    rows = list(codes_of(batch).order_by("ordinal").values_list("ordinal", "serial"))
    assert [o for o, _ in rows] == list(range(batch.first_ordinal, batch.first_ordinal + 1_234))
    assert all(codec.ordinal(serial) == ordinal for ordinal, serial in rows)
    assert batch.state == BatchState.READY and batch.codes_done == 1_234


def test_second_batch_continues_the_products_counter(db):
    product = ProductFactory()
    first = ready_batch(product, quantity=100)
    second = ready_batch(product, quantity=50)
    assert (first.first_ordinal, second.first_ordinal) == (0, 100)
    product.refresh_from_db()
    assert product.next_ordinal == 150
    assert codes_of(second).count() == 50


def test_generating_a_ready_batch_again_adds_nothing(db):
    batch = ready_batch(quantity=300)
    services.generate_batch(batch.pk)
    assert codes_of(batch).count() == 300


def test_chunks_cover_the_batch_without_gaps(db):
    product = ProductFactory()
    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=1_001, enqueue=False)
    services.generate_batch(batch.pk, chunk_size=100)
    assert sorted(codes_of(batch).values_list("ordinal", flat=True)) == list(range(1_001))


def test_order_refuses_a_format_too_small_for_the_quantity(db):
    product = ProductFactory(serial_alphabet="numeric", serial_length=8)  # 10^8 serials: 100 codes max at 1e-6
    with pytest.raises(services.OrderError) as error:
        services.order_batch(product=product, lot=LotFactory(product=product), quantity=500, enqueue=False)
    assert error.value.field == "quantity"
    assert not CodeBatch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_for_one_product_get_disjoint_ordinal_blocks():
    product = ProductFactory()
    lot = LotFactory(product=product)
    barrier, blocks, errors = threading.Barrier(6), [], []

    def order():
        try:
            barrier.wait()
            batch = services.order_batch(product=product, lot=lot, quantity=1_000, enqueue=False)
            blocks.append((batch.first_ordinal, batch.end_ordinal))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=order) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(blocks) == [(i * 1_000, (i + 1) * 1_000) for i in range(6)]


@pytest.mark.django_db(transaction=True)
def test_generation_killed_mid_batch_resumes_to_exactly_n_codes():
    product = ProductFactory()
    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=200_000, enqueue=False)
    script = f"from codes.services import generate_batch; generate_batch({batch.pk})"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env_for_test_database(CODES_CHUNK_SIZE=5_000),
        start_new_session=True,
    )
    wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).codes_done >= 20_000, timeout=120, interval=0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    batch.refresh_from_db()
    assert 0 < batch.codes_done < 200_000 and batch.state == BatchState.GENERATING
    assert codes_of(batch).count() == batch.codes_done  # each chunk committed with its progress, or not at all

    services.generate_batch(batch.pk)  # what the redelivered task does
    ordinals = sorted(codes_of(batch).values_list("ordinal", flat=True))
    assert ordinals == list(range(200_000))
    assert CodeBatch.objects.get(pk=batch.pk).state == BatchState.READY


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_generates_an_ordered_batch():
    product = ProductFactory()
    env = env_for_test_database()
    purge_queue(env)
    worker = Worker().start()
    try:
        batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=2_000)
        wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).state == BatchState.READY, timeout=120)
    finally:
        worker.stop()
    assert codes_of(batch).count() == 2_000


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_ends_with_exactly_n_codes():
    product = ProductFactory()
    env = env_for_test_database(CODES_CHUNK_SIZE=5_000, CELERY_VISIBILITY_TIMEOUT=3)
    purge_queue(env)
    first = Worker(CODES_CHUNK_SIZE=5_000, CELERY_VISIBILITY_TIMEOUT=3).start()
    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=150_000)
    try:
        wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).codes_done >= 10_000, timeout=120, interval=0.05)
    finally:
        first.kill()
    assert CodeBatch.objects.get(pk=batch.pk).codes_done < 150_000
    second = Worker(CODES_CHUNK_SIZE=5_000, CELERY_VISIBILITY_TIMEOUT=3).start()
    try:
        wait_for(lambda: CodeBatch.objects.get(pk=batch.pk).state == BatchState.READY, timeout=180)
    finally:
        second.stop()
    assert sorted(codes_of(batch).values_list("ordinal", flat=True)) == list(range(150_000))
