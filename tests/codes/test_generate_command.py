import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from codes.models import Code, CodeBatch, Lot
from tests.factories import ProductFactory


def run(*args) -> str:
    out = StringIO()
    call_command("generate_codes", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand, gtin="09506000134352")


def test_command_generates_and_prints_json_last(product):
    out = run(
        "--brand",
        product.brand.slug,
        "--gtin",
        "9506000134352",
        "--lot",
        "L2026A",
        "--expiry",
        "2030-01-31",
        "--quantity",
        "500",
    )
    result = json.loads(out.strip().splitlines()[-1])
    assert result["quantity"] == 500 and result["seconds"] >= 0
    assert Code.objects.filter(batch_id=result["batch"]).count() == 500
    assert Lot.objects.get(product=product, number="L2026A").expires_on.isoformat() == "2030-01-31"


def test_command_sets_a_numeric_format_before_the_first_codes(product):
    out = run(
        "--brand",
        product.brand.slug,
        "--gtin",
        product.gtin,
        "--lot",
        "L1",
        "--quantity",
        "10",
        "--format",
        "numeric",
        "--length",
        "14",
    )
    batch = CodeBatch.objects.get(pk=json.loads(out.splitlines()[-1])["batch"])
    assert all(len(s) == 14 and s.isdigit() for s in Code.objects.filter(batch=batch).values_list("serial", flat=True))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--gtin", "09506000134353"], "gtin"),  # wrong check digit
        (["--brand", "nope"], "brand"),
        (["--quantity", "0"], "quantity"),
        (["--quantity", "10000001"], "quantity"),
        (["--lot", "L 1#"], "lot"),
        (["--expiry", "2020-01-01"], "expiry"),
        (["--format", "numeric", "--length", "5"], "length"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(product, args, field):
    base = {"--brand": product.brand.slug, "--gtin": product.gtin, "--lot": "L1", "--quantity": "10"}
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **pairs}.items() for x in (k, v)]
    with pytest.raises(CommandError) as error:
        run(*argv)
    assert str(error.value).startswith(field)
    assert not CodeBatch.objects.exists() and not Lot.objects.exists()
