import uuid
from datetime import date

import pytest

from codes.models import Code
from tests.api.conftest import key_client
from tests.factories import LotFactory, ProductFactory, ready_batch

BRAND_GLN = "0614141000005"
PARTNER_GLN = "0614141000012"  # a wholesaler
OTHER_GLN = "0614141000029"


@pytest.fixture(autouse=True)
def _clear_vrs_counters():
    """Per-key rate counters live in the shared cache (Redis), which outlives the test database."""
    from django.core.cache import cache

    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        cache.clear()
        return
    redis = client(write=True)
    for name in redis.scan_iter("*rl:vrs-key:*"):
        redis.delete(name)


@pytest.fixture
def responder(brand):
    brand.gln = BRAND_GLN
    brand.save(update_fields=["gln"])
    return brand


@pytest.fixture
def partner(responder):
    """A wholesaler's system, approved by the brand: a key of scope vrs carrying its GLN."""
    return key_client(responder, "vrs", name="Wholesaler", partner_gln=PARTNER_GLN)


@pytest.fixture
def batch(responder):
    product = ProductFactory(brand=responder)
    return ready_batch(product, quantity=5, lot=LotFactory(product=product, number="L2026A"), activated=True)


@pytest.fixture
def unit(batch):
    return Code.objects.filter(batch=batch).order_by("ordinal").first()


def ask(client, code=None, *, gtin=None, lot=None, serial=None, exp="301231", gln=PARTNER_GLN, **query):
    """A trading partner's request, as the Verification Router Service forwards it."""
    from urllib.parse import quote, urlencode

    gtin = gtin or code.product.gtin
    lot = code.batch.lot.number if lot is None else lot
    serial = code.serial if serial is None else serial
    params = {"exp": exp, "corrUUID": str(uuid.uuid4()), "reqGLN": gln, "context": "dscsaSaleableReturn", **query}
    params = {k: v for k, v in params.items() if v is not None}
    path = f"/vrs/verify/gtin/{gtin}/lot/{quote(lot, safe='')}/ser/{quote(serial, safe='')}"
    url = f"{path}?{urlencode(params)}"
    return client.get(url, RAW_URI=url)  # gunicorn's: the path as sent, a lot's %2F still encoded


EXPIRED_ON = date(2024, 1, 31)
