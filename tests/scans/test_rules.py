"""The device count behind the likely-copy rule: phones that share a network, or one phone on two networks, are
one device; older entries without a network count each on their own."""

import pytest

from scans import rules


@pytest.mark.parametrize(
    ("entries", "devices"),
    [
        (None, 0),
        ("", 0),
        ("aaaa.d1;aaaa.d2;aaaa.d3;", 1),  # forged cookies from one address
        ("n1.phone;n2.phone;n3.phone;", 1),  # one phone roaming
        ("n1.d1;n2.d2;n3.d3;", 3),  # three phones in three places
        ("n1.d1;n1.d2;n2.d2;n3.d3;", 2),  # chained: n1-d1, n1-d2, n2-d2 are one
        ("d1;d2;", 2),  # before networks were recorded
    ],
)
def test_devices_sharing_a_network_or_an_id_count_once(entries, devices):
    assert rules.device_count(entries) == devices
