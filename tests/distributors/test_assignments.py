import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from distributors import services
from distributors.models import Assignment, AssignmentEnd
from tests.factories import DistributorFactory, ProductFactory, ready_batch


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand), quantity=100)


@pytest.fixture
def kl(brand):
    return DistributorFactory(brand=brand, name="KL Wholesale", code="KL", territory=["MY-10", "MY-14"])


@pytest.fixture
def johor(brand):
    return DistributorFactory(brand=brand, name="Johor Trading", code="JHR", territory=["MY-01"])


def current(batch):
    return list(
        Assignment.objects.filter(batch=batch, ended_at__isnull=True)
        .order_by("first_position")
        .values_list("first_position", "last_position", "distributor__code")
    )


def test_assigned_range_is_held_and_the_rest_stays_free(batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=40)
    assert current(batch) == [(1, 40, "KL")]
    assert services.free_ranges(batch) == [(41, 100)]


@pytest.mark.parametrize(("first", "last"), [(40, 60), (1, 100), (50, 50), (30, 45)])
def test_overlapping_range_is_refused_naming_the_holder(batch, kl, johor, first, last):
    services.assign_range(batch=batch, distributor=kl, first_position=41, last_position=50)
    with pytest.raises(services.DistributorError, match="already assigned to KL Wholesale") as refused:
        services.assign_range(batch=batch, distributor=johor, first_position=first, last_position=last)
    assert refused.value.field == "first_position"
    assert current(batch) == [(41, 50, "KL")]


@pytest.mark.parametrize(
    ("first", "last", "field"), [(0, 5, "first_position"), (5, 101, "last_position"), (9, 3, "last_position")]
)
def test_empty_or_out_of_batch_range_is_refused(batch, kl, first, last, field):
    with pytest.raises(services.DistributorError) as refused:
        services.assign_range(batch=batch, distributor=kl, first_position=first, last_position=last)
    assert refused.value.field == field and not Assignment.objects.exists()


def test_distributor_of_another_brand_is_refused(batch, other_brand):
    stranger = DistributorFactory(brand=other_brand)
    with pytest.raises(services.DistributorError, match="No such distributor") as refused:
        services.assign_range(batch=batch, distributor=stranger, first_position=1, last_position=5)
    assert refused.value.field == "distributor" and not Assignment.objects.exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_overlap_even_when_the_service_check_is_skipped(batch, kl, johor):
    from django.db import IntegrityError, transaction

    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(batch=batch, distributor=johor, first_position=10, last_position=20)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_assignments_of_one_range_exactly_one_wins(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=100)
    rivals = [DistributorFactory(brand=brand, code=f"R{n}") for n in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def attempt(distributor):
        try:
            barrier.wait(5)
            services.assign_range(batch=batch, distributor=distributor, first_position=1, last_position=60)
            outcomes.append("won")
        except services.DistributorError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(d,)) for d in rivals]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1, outcomes
    assert Assignment.objects.filter(batch=batch).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_moves_of_one_assignment_move_it_once(brand):
    """Both requests name the same assignment (the API's /assignments/{id}/move/): the second waits on the batch's
    lock, then finds it ended and is refused, instead of moving on what the first one just gave away."""
    batch = ready_batch(ProductFactory(brand=brand), quantity=100)
    holder = DistributorFactory(brand=brand, code="HOLD")
    given = services.assign_range(batch=batch, distributor=holder, first_position=1, last_position=60)
    rivals = [DistributorFactory(brand=brand, code=f"R{n}") for n in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def attempt(distributor):
        try:
            barrier.wait(5)
            services.reassign_assignment(assignment=given, to=distributor)
            outcomes.append("won")
        except services.AssignmentEnded as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(d,)) for d in rivals]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert outcomes.count("won") == 1 and "moved or returned" in sorted(outcomes)[0], outcomes
    rows = Assignment.objects.filter(batch=batch)
    assert rows.count() == 2 and rows.get(ended_at__isnull=True).replaces_id == given.pk


def test_moving_part_of_a_range_splits_it_and_keeps_history(batch, kl, johor, owner):
    original = services.assign_range(
        batch=batch, distributor=kl, first_position=1, last_position=50, shipment_reference="SHIP-1"
    )
    services.reassign_range(batch=batch, first_position=21, last_position=30, to=johor, by=owner.user)
    assert current(batch) == [(1, 20, "KL"), (21, 30, "JHR"), (31, 50, "KL")]
    original.refresh_from_db()
    assert original.ended_at is not None and original.end_reason == AssignmentEnd.MOVED
    assert original.ended_by == owner.user
    history = Assignment.objects.filter(batch=batch).order_by("assigned_at", "first_position")
    assert [a.replaces_id for a in history] == [None, original.pk, original.pk, original.pk]
    kept = Assignment.objects.get(batch=batch, first_position=1, ended_at__isnull=True)
    assert kept.shipment_reference == "SHIP-1"


def test_returned_range_is_free_again_and_history_stays(batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=50)
    services.reassign_range(batch=batch, first_position=1, last_position=50, to=None)
    assert current(batch) == [] and services.free_ranges(batch) == [(1, 100)]
    assert Assignment.objects.get(batch=batch).end_reason == AssignmentEnd.RETURNED


def test_a_move_spanning_two_assignments_moves_both_parts(batch, kl, johor):
    other = DistributorFactory(brand=batch.product.brand, code="PNG", territory=["MY-07"])
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=10)
    services.assign_range(batch=batch, distributor=johor, first_position=11, last_position=20)
    services.reassign_range(batch=batch, first_position=6, last_position=15, to=other)
    assert current(batch) == [(1, 5, "KL"), (6, 10, "PNG"), (11, 15, "PNG"), (16, 20, "JHR")]


def test_units_nobody_holds_cannot_be_moved(batch, kl, johor):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=10)
    with pytest.raises(services.DistributorError, match="holds now"):
        services.reassign_range(batch=batch, first_position=5, last_position=15, to=johor)
    assert current(batch) == [(1, 10, "KL")]


def test_command_assigns_a_range(batch, kl, capsys):
    call_command("assign_range", str(batch.pk), "--distributor", "kl", "--from", "1", "--to", "25")
    assert "Assigned positions 1–25" in capsys.readouterr().out
    assert current(batch) == [(1, 25, "KL")]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--distributor", "KL", "--from", "90", "--to", "120"], "--to: To must be between 1 and 100"),
        (["--distributor", "NOPE", "--from", "1", "--to", "5"], "--distributor: the batch's brand has no distributor"),
        (["--distributor", "KL", "--from", "5", "--to", "1"], "--to: To must not be before From"),
    ],
)
def test_command_refuses_bad_ranges_with_the_reason_and_writes_nothing(batch, kl, args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("assign_range", str(batch.pk), *args)
    assert not Assignment.objects.exists()


def test_command_refuses_a_distributor_of_another_brand(batch, other_brand):
    DistributorFactory(brand=other_brand, code="ELSE")
    with pytest.raises(CommandError, match="no distributor ELSE"):
        call_command("assign_range", str(batch.pk), "--distributor", "ELSE", "--from", "1", "--to", "5")


def test_command_refuses_overlap(batch, kl, johor):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=10)
    with pytest.raises(CommandError, match="already assigned to KL Wholesale"):
        call_command("assign_range", str(batch.pk), "--distributor", "JHR", "--from", "5", "--to", "20")
    assert current(batch) == [(1, 10, "KL")]


def test_unknown_territory_code_is_refused_by_field(brand):
    with pytest.raises(services.DistributorError, match="MY-99") as refused:
        services.create_distributor(brand=brand, name="X", code="X", territory="MY-14, MY-99")
    assert refused.value.field == "territory"


def test_distributor_code_is_unique_per_brand(brand, other_brand):
    services.create_distributor(brand=brand, name="A", code="kl", territory="MY-14")
    services.create_distributor(brand=other_brand, name="B", code="KL", territory="MY-14")
    with pytest.raises(services.DistributorError, match="code KL") as refused:
        services.create_distributor(brand=brand, name="C", code="KL", territory="SG")
    assert refused.value.field == "code"
