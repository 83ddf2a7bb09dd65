"""CSV files people open: text that a spreadsheet would run as a formula arrives as text."""

import csv
import io
import zipfile

import pytest

from brands import offboarding
from brands.spreadsheet import safe_cell
from tests.factories import DistributorFactory


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_starting_like_a_formula_becomes_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Kuala Lumpur", "ABC-123", "", 42, -3, None])
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_the_brand_export_writes_a_formula_like_distributor_name_as_text(brand):
    DistributorFactory(brand=brand, code="EVIL", name='=HYPERLINK("http://evil.example","Click")')
    out = io.BytesIO()
    offboarding.write_export(brand.pk, out)
    with zipfile.ZipFile(out) as export:
        rows = list(csv.DictReader(io.StringIO(export.read("distributors/distributor.csv").decode())))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://evil.example","Click")']
