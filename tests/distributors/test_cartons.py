import csv
import io

import pytest
import zxingcpp
from biip.sscc import Sscc

from codes import gs1
from codes.models import Code
from distributors import services
from distributors.labels import carton_label_pdf
from distributors.models import Carton
from tests.codes.test_labels import needs_poppler, rasterise
from tests.factories import DistributorFactory, ProductFactory, ready_batch

PREFIX = "9506000"  # the company prefix of GS1's example GTIN 09506000134352


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin="09506000134352", name="Vitamin C"), quantity=60)


def received_positions(batch) -> list[int]:
    ordinals = Code.objects.filter(batch=batch, received_at__isnull=False).values_list("ordinal", flat=True)
    return sorted(o - batch.first_ordinal + 1 for o in ordinals)


def test_packing_makes_consecutive_cartons_with_valid_ssccs(batch):
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=12, company_prefix=PREFIX)
    assert [(c.first_position, c.last_position) for c in cartons] == [(n, n + 11) for n in range(1, 61, 12)]
    for reference, carton in enumerate(cartons, 1):
        parsed = Sscc.parse(carton.sscc)  # biip checks the GS1 check digit on its own
        assert (parsed.extension_digit, parsed.payload[1:8], int(parsed.payload[8:])) == (0, PREFIX, reference)


def test_sscc_matches_gs1s_own_example():
    assert gs1.sscc(1, "0614141", 234567890) == "106141412345678908"
    assert gs1.is_valid_sscc("106141412345678908") and not gs1.is_valid_sscc("106141412345678907")


def test_ssccs_never_repeat_across_batches_of_the_brand(batch, brand):
    other = ready_batch(ProductFactory(brand=brand, gtin="09506000134376"), quantity=10)
    first = services.pack_cartons(batch=batch, first_position=1, last_position=10, size=5, company_prefix=PREFIX)
    second = services.pack_cartons(batch=other, first_position=1, last_position=10, size=5, company_prefix=PREFIX)
    assert len({c.sscc for c in first + second}) == 4


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"size": 7}, "size", "60 units do not fill cartons of 7"),
        ({"size": 0}, "size", "between 1 and 60"),
        ({"company_prefix": "12345"}, "company_prefix", "6 to 12 digits"),
        ({"company_prefix": "4006381"}, "company_prefix", "not under 4006381"),
        ({"last_position": 61}, "last_position", "between 1 and 60"),
    ],
)
def test_bad_packing_is_refused_naming_the_field_and_writes_nothing(batch, kwargs, field, reason):
    request = {"first_position": 1, "last_position": 60, "size": 12, "company_prefix": PREFIX, **kwargs}
    with pytest.raises(services.DistributorError, match=reason) as refused:
        services.pack_cartons(batch=batch, **request)
    assert refused.value.field == field and not Carton.objects.exists()


def test_units_already_in_a_carton_cannot_be_packed_again(batch):
    services.pack_cartons(batch=batch, first_position=1, last_position=10, size=10, company_prefix=PREFIX)
    with pytest.raises(services.DistributorError, match="already packed"):
        services.pack_cartons(batch=batch, first_position=5, last_position=14, size=10, company_prefix=PREFIX)
    assert Carton.objects.count() == 1


def test_a_prefix_another_brand_uses_cannot_be_taken(batch, other_brand):
    services.pack_cartons(batch=batch, first_position=1, last_position=10, size=10, company_prefix=PREFIX)
    stranger = ready_batch(ProductFactory(brand=other_brand, gtin="09506000134383"), quantity=10)
    with pytest.raises(services.DistributorError, match="cannot be used"):
        services.pack_cartons(batch=stranger, first_position=1, last_position=10, size=10, company_prefix=PREFIX)


def test_assigning_a_carton_assigns_exactly_its_units(batch, brand):
    kl = DistributorFactory(brand=brand)
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=20, company_prefix=PREFIX)
    assignment = services.assign_carton(carton=cartons[1], distributor=kl)
    assert (assignment.first_position, assignment.last_position) == (21, 40)
    assert assignment.shipment_reference == cartons[1].sscc
    assert services.free_ranges(batch) == [(1, 20), (41, 60)]


def test_receiving_a_carton_marks_exactly_its_units(batch, brand):
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=20, company_prefix=PREFIX)
    services.assign_range(batch=batch, distributor=DistributorFactory(brand=brand), first_position=1, last_position=60)
    assert services.receive_carton(carton=cartons[1]) == 20
    assert received_positions(batch) == list(range(21, 41))
    cartons[1].refresh_from_db()
    assert cartons[1].received_at is not None


def test_receiving_an_assignment_marks_its_units_and_keeps_earlier_receipts(batch, brand):
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=20, company_prefix=PREFIX)
    assignment = services.assign_range(
        batch=batch, distributor=DistributorFactory(brand=brand), first_position=11, last_position=50
    )
    services.receive_carton(carton=cartons[1])
    first_receipt = Code.objects.get(batch=batch, ordinal=batch.first_ordinal + 25).received_at
    assert services.receive_assignment(assignment=assignment) == 20  # 11–20 and 41–50; 21–40 were in
    assert received_positions(batch) == list(range(11, 51))
    assert Code.objects.get(batch=batch, ordinal=batch.first_ordinal + 25).received_at == first_receipt


@needs_poppler
def test_carton_label_decodes_as_gs1_with_the_sscc(batch, tmp_path):
    carton = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=60, company_prefix=PREFIX)[0]
    carton = Carton.objects.select_related("batch__product", "batch__lot").get(pk=carton.pk)
    page = rasterise(carton_label_pdf(carton), tmp_path)
    (found,) = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.DataMatrix)
    assert found.symbology_identifier == "]d2"  # GS1 DataMatrix
    assert found.text == f"(00){carton.sscc}"  # zxing's HRI of a GS1 symbol


def test_cartons_csv_lists_sscc_and_positions(batch, owner_client):
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=60, size=30, company_prefix=PREFIX)
    response = owner_client.get(f"/batches/{batch.pk}/cartons.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["sscc", "first_position", "last_position"],
        [cartons[0].sscc, "1", "30"],
        [cartons[1].sscc, "31", "60"],
    ]
