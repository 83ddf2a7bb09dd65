"""The access layer reads each URL id's model from the model's own declaration (`url_id`), so it names no model
of the apps above it; the URL-walking tenancy test (tests/test_tenancy.py) proves each one scopes by brand."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from brands import access
from codes.models import Product
from scans.models import Alert


def test_each_url_id_is_the_one_its_model_declares():
    models = {name: model for name, model in access.URL_IDS.items() if model is not None}
    assert models["product_id"] is Product and models["alert_id"] is Alert
    assert all(vars(model)["url_id"] == name for name, model in models.items())
    assert all(hasattr(model.objects, "for_actor") for model in models.values())  # brand-owned, scoped per actor


def test_a_number_that_is_no_row_id_is_declared_as_such():
    assert access.URL_IDS["part"] is None and set(access.PLAIN_NUMBERS) <= set(access.URL_IDS)


def test_two_models_declaring_one_url_id_are_refused(monkeypatch):
    class Copy:
        url_id = "product_id"

    monkeypatch.setattr(access.apps, "get_models", lambda: [Product, Copy])
    with pytest.raises(ImproperlyConfigured, match="product_id"):
        access._url_ids()
