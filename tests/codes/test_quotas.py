"""Plans and quotas: the order that would pass a limit is refused, whoever places it, and leaves nothing."""

import pytest
from django.core.management import CommandError, call_command

from brands.models import Brand
from codes import printing, services
from codes.models import BatchState, CodeBatch, Lot, PrintFile
from tests.factories import LotFactory, ProductFactory, ready_batch, ready_print_job


@pytest.fixture
def trial_product(brand):
    Brand.objects.filter(pk=brand.pk).update(plan="trial")
    brand.refresh_from_db()
    return ProductFactory(brand=brand, gtin="09506000134352")


def _order(product, quantity, lot=None):
    return services.order_batch(
        product=product, lot=lot or LotFactory(product=product), quantity=quantity, enqueue=False
    )


def test_new_brands_start_on_the_trial_plan(db):
    assert Brand.objects.create(name="New", slug="new").plan == "trial"


def test_form_refuses_a_batch_larger_than_the_plan_allows_and_writes_nothing(owner_client, trial_product):
    order = {"lot_number": "L1", "expires_on": "2030-01-31", "quantity": 50_001}
    response = owner_client.post(f"/products/{trial_product.pk}/batches/new/", order)
    assert response.status_code == 200 and "batches of at most 50,000" in response.content.decode()
    assert not CodeBatch.objects.exists() and not Lot.objects.exists()


def test_the_monthly_allowance_counts_every_batch_ordered_this_month(trial_product):
    for _ in range(2):
        batch = _order(trial_product, 50_000)
        CodeBatch.objects.filter(pk=batch.pk).update(state=BatchState.READY)
    with pytest.raises(services.OrderError, match="100,000 codes a month"):
        _order(trial_product, 1)
    assert CodeBatch.objects.count() == 2


def test_batches_in_progress_are_limited(trial_product):
    _order(trial_product, 10)
    _order(trial_product, 10)
    with pytest.raises(services.OrderError, match="2 batches in progress"):
        _order(trial_product, 10)


def test_command_refuses_the_order_and_writes_nothing(trial_product):
    args = ["generate_codes", "--brand", trial_product.brand.slug, "--gtin", trial_product.gtin, "--lot", "L9"]
    with pytest.raises(CommandError, match="quantity: .*at most 50,000"):
        call_command(*args, "--quantity", "60000")
    assert not CodeBatch.objects.exists() and not Lot.objects.filter(number="L9").exists()


def test_print_files_are_refused_once_their_storage_is_used_up(trial_product):
    batch = ready_batch(trial_product, quantity=3)
    ready_print_job(batch)
    PrintFile.objects.update(size=2 * 1024**3)
    with pytest.raises(printing.PrintError, match="storage"):
        printing.create_print_job(batch=batch, fmt="csv", enqueue=False)


def test_operators_move_a_brand_to_another_plan(trial_product):
    call_command("set_plan", "--brand", trial_product.brand.slug, "standard")
    _order(trial_product, 60_000)  # over the trial's largest batch, within the standard plan's


def test_settings_page_shows_the_plan_with_its_usage(owner_client, trial_product):
    _order(trial_product, 1_234)
    page = owner_client.get("/settings/").content.decode()
    assert "Plan: Trial" in page and "1,234" in page and "100,000" in page


def test_a_queued_print_job_reserves_its_estimated_size(trial_product):
    """Issue 18: storage was checked against finished files only, so 40 big jobs queued at once were accepted on
    a 1 GB trial (about 11 GB rendered)."""
    batch = ready_batch(trial_product, quantity=20_000)
    ready_print_job(batch, "csv", first=1, last=10)
    PrintFile.objects.update(size=0)
    PrintFile.objects.filter(pk=PrintFile.objects.first().pk).update(size=1024**3 - 10 * 1024**2)  # 10 MB left
    with pytest.raises(printing.PrintError, match="print storage"):  # 20,000 SVG codes: about 17 MB
        printing.create_print_job(batch=batch, fmt="qr-svg", enqueue=False)
    small = printing.create_print_job(batch=batch, fmt="csv", first_position=1, last_position=10_000, enqueue=False)
    assert small.state == "queued"
    # The queued job's 2 MB are reserved: the next one that would fit only without them is refused.
    with pytest.raises(printing.PrintError, match="print storage"):
        printing.create_print_job(batch=batch, fmt="qr-png", first_position=1, last_position=16_000, enqueue=False)


def test_print_jobs_in_progress_are_limited(trial_product):
    batch = ready_batch(trial_product, quantity=5)
    for _ in range(3):
        printing.create_print_job(batch=batch, fmt="csv", enqueue=False)  # queued: no worker picks them up
    with pytest.raises(printing.PrintError, match="3 print jobs in progress"):
        printing.create_print_job(batch=batch, fmt="csv", enqueue=False)


def test_one_accounts_trial_brands_share_one_trial(trial_product, owner):
    from brands import services as brand_services

    second = brand_services.create_brand(name="Second Try", owner=owner.user)
    assert second.plan == "trial"
    other = ProductFactory(brand=second, gtin="09506000134369")
    batch = _order(trial_product, 50_000)
    CodeBatch.objects.filter(pk=batch.pk).update(state=BatchState.READY)
    batch = _order(other, 50_000)
    CodeBatch.objects.filter(pk=batch.pk).update(state=BatchState.READY)
    with pytest.raises(services.OrderError, match="100,000 codes a month"):
        _order(other, 1)  # a new brand is no fresh trial


def test_the_settings_page_shows_print_jobs_in_progress(owner_client, trial_product):
    printing.create_print_job(batch=ready_batch(trial_product, quantity=3), fmt="csv", enqueue=False)
    page = owner_client.get("/settings/").content.decode()
    assert "Print jobs in progress" in page
