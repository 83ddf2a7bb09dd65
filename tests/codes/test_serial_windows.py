"""codes.rows.serial_windows: a range of a product's units read in print order, a window at a time (exports)."""

import pytest

from codes import rows
from tests.factories import ready_batch

pytestmark = pytest.mark.django_db


def test_a_range_is_read_in_print_order_in_windows_of_the_size_asked():
    batch = ready_batch(quantity=20)
    windows = list(
        rows.serial_windows(product_id=batch.product_id, first=batch.first_ordinal + 2, end=batch.end_ordinal, size=7)
    )
    assert [len(w) for w in windows] == [7, 7, 4]
    ordinals = [ordinal for window in windows for ordinal, _serial in window]
    assert ordinals == list(range(batch.first_ordinal + 2, batch.end_ordinal))
    stored = dict(batch.codes.values_list("ordinal", "serial"))
    assert all(stored[ordinal] == serial for window in windows for ordinal, serial in window)


def test_a_missing_ordinal_is_skipped_not_a_stop():
    batch = ready_batch(quantity=10)
    batch.codes.filter(ordinal=batch.first_ordinal + 3).delete()
    windows = list(
        rows.serial_windows(product_id=batch.product_id, first=batch.first_ordinal, end=batch.end_ordinal, size=3)
    )
    assert sum(len(w) for w in windows) == 9 and batch.first_ordinal + 3 not in {o for w in windows for o, _ in w}
