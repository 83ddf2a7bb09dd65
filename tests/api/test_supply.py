"""Distribution through the API: distributors, assignments (assign, move, return, receive), cartons (pack, assign,
receive); a distributor's key sees and receives only its own, as its people do in the portal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from codes import gs1
from codes.models import Code
from distributors import services
from distributors.models import Assignment, Carton, Distributor
from tests.factories import DistributorFactory, ProductFactory, ready_batch

from .conftest import key_client

pytestmark = pytest.mark.django_db

PREFIX = "9506000"  # the company prefix of GS1's example GTIN 09506000134352, approved for every test brand


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=60)


@pytest.fixture
def kl(brand):
    return DistributorFactory(brand=brand, name="KL Wholesale", code="KL", territory=["MY-10", "MY-14"])


@pytest.fixture
def johor(brand):
    return DistributorFactory(brand=brand, name="Johor Trading", code="JHR", territory=["MY-01"])


@pytest.fixture
def kl_api(kl):
    return key_client(kl.brand, "read,write", distributor=kl)


def assign(batch, distributor, first, last) -> Assignment:
    return services.assign_range(batch=batch, distributor=distributor, first_position=first, last_position=last)


def pack(batch, first=1, last=60, size=12) -> list[Carton]:
    return services.pack_cartons(
        batch=batch, first_position=first, last_position=last, size=size, company_prefix=PREFIX
    )


def field_errors(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["errors"]


def received_positions(batch) -> list[int]:
    ordinals = Code.objects.filter(batch=batch, received_at__isnull=False).values_list("ordinal", flat=True)
    return sorted(o - batch.first_ordinal + 1 for o in ordinals)


# --- distributors -----------------------------------------------------------------------------------------


def test_a_distributor_is_added_with_its_territory_as_iso_codes(api, brand):
    body = {"name": "Singapore Pharma", "code": "sg-ph", "territory": ["sg", "MY-14"], "contact_email": "a@sg.example"}
    made = api.post("/api/v1/distributors/", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["code"] == "SG-PH" and made.json()["territory"] == ["MY-14", "SG"]
    assert [d["name"] for d in api.get("/api/v1/distributors/").json()["results"]] == ["Singapore Pharma"]
    assert api.get(f"/api/v1/distributors/{made.json()['id']}/").json()["contact_email"] == "a@sg.example"
    assert Distributor.objects.get(brand=brand).territory == ["MY-14", "SG"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"territory": ["XX-99"]}, "territory"),
        ({"territory": []}, "territory"),
        ({"code": "KL"}, "code"),  # taken in the brand
        ({"name": "Tab\there"}, "name"),
    ],
)
def test_a_bad_distributor_is_refused_naming_the_field(api, kl, body, field):
    refused = api.post(
        "/api/v1/distributors/", {"name": "New", "code": "NEW", "territory": ["SG"], **body}, format="json"
    )
    assert refused.status_code == 400 and field in field_errors(refused)
    assert not Distributor.objects.filter(code="NEW").exists()


def test_a_distributor_is_changed_in_part(api, kl):
    changed = api.patch(f"/api/v1/distributors/{kl.pk}/", {"territory": ["SG"], "phone": "+65 1234"}, format="json")
    assert changed.status_code == 200, changed.content
    kl.refresh_from_db()
    assert (kl.name, kl.code, kl.territory, kl.phone) == ("KL Wholesale", "KL", ["SG"], "+65 1234")


def test_a_distributor_cannot_take_a_siblings_code(api, kl, johor):
    refused = api.patch(f"/api/v1/distributors/{kl.pk}/", {"code": "jhr"}, format="json")
    assert refused.status_code == 400 and "JHR" in field_errors(refused)["code"][0]


def test_another_brands_distributor_is_404(outsider_api, kl):
    assert outsider_api.get(f"/api/v1/distributors/{kl.pk}/").status_code == 404
    assert outsider_api.patch(f"/api/v1/distributors/{kl.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert outsider_api.get("/api/v1/distributors/").json()["results"] == []


def test_an_operators_key_sees_distributors_but_cannot_add_them(brand, kl):
    write = key_client(brand, "read,write")  # distributors.manage is an admin's
    assert write.get(f"/api/v1/distributors/{kl.pk}/").status_code == 200
    body = {"name": "New", "code": "NEW", "territory": ["SG"]}
    assert write.post("/api/v1/distributors/", body, format="json").status_code == 403
    assert write.patch(f"/api/v1/distributors/{kl.pk}/", {"name": "X"}, format="json").status_code == 403
    assert Distributor.objects.get(pk=kl.pk).name == "KL Wholesale"


def test_distributors_do_not_exist_for_a_distributors_key(kl_api, kl):
    assert kl_api.get("/api/v1/distributors/").status_code == 404
    assert kl_api.get(f"/api/v1/distributors/{kl.pk}/").status_code == 404
    assert kl_api.patch(f"/api/v1/distributors/{kl.pk}/", {"name": "X"}, format="json").status_code == 404


# --- assignments ------------------------------------------------------------------------------------------


def test_a_range_is_assigned_to_a_distributor(api, batch, kl):
    body = {
        "batch": batch.pk,
        "distributor": kl.pk,
        "first_position": 1,
        "last_position": 30,
        "shipment_reference": "S1",
    }
    made = api.post("/api/v1/assignments/", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json() | {"id": 0, "assigned_at": ""} == {
        "id": 0,
        "batch": batch.pk,
        "distributor": kl.pk,
        "distributor_name": "KL Wholesale",
        "first_position": 1,
        "last_position": 30,
        "quantity": 30,
        "shipment_reference": "S1",
        "state": "held",
        "assigned_at": "",
        "received_at": None,
        "ended_at": None,
        "replaces": None,
    }
    assert services.free_ranges(batch) == [(31, 60)]
    assert api.get(f"/api/v1/assignments/{made.json()['id']}/").json()["quantity"] == 30


def test_an_overlapping_range_is_refused_naming_the_holder(api, batch, kl, johor):
    assign(batch, kl, 1, 30)
    body = {"batch": batch.pk, "distributor": johor.pk, "first_position": 25, "last_position": 40}
    refused = api.post("/api/v1/assignments/", body, format="json")
    assert refused.status_code == 400
    assert field_errors(refused)["first_position"] == ["Positions 25–30 are already assigned to KL Wholesale."]
    assert refused.json()["detail"] == "Positions 25–30 are already assigned to KL Wholesale."
    assert not Assignment.objects.filter(distributor=johor).exists()


@pytest.mark.parametrize(
    ("first", "last", "field"), [(0, 10, "first_position"), (1, 61, "last_position"), (20, 10, "last_position")]
)
def test_a_range_outside_the_batch_is_refused_naming_the_field(api, batch, kl, first, last, field):
    body = {"batch": batch.pk, "distributor": kl.pk, "first_position": first, "last_position": last}
    refused = api.post("/api/v1/assignments/", body, format="json")
    assert refused.status_code == 400 and field in field_errors(refused)


def test_another_brands_batch_or_distributor_cannot_be_assigned(api, batch, kl, other_brand):
    theirs = DistributorFactory(brand=other_brand)
    their_batch = ready_batch(ProductFactory(brand=other_brand), quantity=5)
    for body in ({"batch": batch.pk, "distributor": theirs.pk}, {"batch": their_batch.pk, "distributor": kl.pk}):
        refused = api.post("/api/v1/assignments/", {**body, "first_position": 1, "last_position": 5}, format="json")
        assert refused.status_code == 400 and set(field_errors(refused)) <= {"batch", "distributor"}
    assert not Assignment.objects.exists()


def test_assignments_are_filtered_by_batch_distributor_and_state(api, brand, batch, kl, johor):
    other_batch = ready_batch(ProductFactory(brand=brand), quantity=10)
    held = assign(batch, kl, 1, 10)
    received = assign(batch, johor, 11, 20)
    services.receive_assignment(assignment=received)
    returned = assign(other_batch, kl, 1, 10)
    services.reassign_assignment(assignment=returned, to=None)

    def ids(query):
        response = api.get(f"/api/v1/assignments/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"batch={batch.pk}") == {held.pk, received.pk}
    assert ids(f"distributor={kl.pk}") == {held.pk, returned.pk}
    assert ids("state=held") == {held.pk}
    assert ids("state=received") == {received.pk}
    assert ids("state=returned") == {returned.pk}
    assert ids("current=true") == {held.pk, received.pk}


def test_moving_part_of_an_assignment_splits_it_and_keeps_history(api, batch, kl, johor):
    whole = assign(batch, kl, 1, 30)
    body = {"to": johor.pk, "first_position": 11, "last_position": 20, "shipment_reference": "TRUCK-7"}
    moved = api.post(f"/api/v1/assignments/{whole.pk}/move/", body, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["ended"]["id"] == whole.pk and moved.json()["ended"]["state"] == "moved"
    created = [(a["first_position"], a["last_position"], a["distributor"]) for a in moved.json()["created"]]
    assert sorted(created) == [(1, 10, kl.pk), (11, 20, johor.pk), (21, 30, kl.pk)]
    assert all(a["replaces"] == whole.pk for a in moved.json()["created"])
    assert Assignment.objects.get(distributor=johor).shipment_reference == "TRUCK-7"


def test_a_whole_assignment_moves_when_no_range_is_given(api, batch, kl, johor):
    whole = assign(batch, kl, 1, 30)
    moved = api.post(f"/api/v1/assignments/{whole.pk}/move/", {"to": johor.pk}, format="json").json()
    assert [(a["first_position"], a["last_position"], a["distributor"]) for a in moved["created"]] == [
        (1, 30, johor.pk)
    ]


@pytest.mark.parametrize(("first", "last", "field"), [(25, 35, "last_position"), (5, 30, "first_position")])
def test_a_move_beyond_the_assignment_is_refused(api, batch, kl, johor, first, last, field):
    assign(batch, johor, 1, 9)
    whole = assign(batch, kl, 10, 30)
    body = {"to": johor.pk, "first_position": first, "last_position": last}
    refused = api.post(f"/api/v1/assignments/{whole.pk}/move/", body, format="json")
    assert refused.status_code == 400 and "10–30" in field_errors(refused)[field][0]
    assert Assignment.objects.get(pk=whole.pk).ended_at is None


def test_moving_an_assignment_that_has_ended_is_a_conflict(api, batch, kl, johor):
    whole = assign(batch, kl, 1, 30)
    services.reassign_assignment(assignment=whole, to=johor)
    refused = api.post(f"/api/v1/assignments/{whole.pk}/move/", {"to": kl.pk}, format="json")
    assert refused.status_code == 409 and "moved or returned" in refused.json()["detail"]
    assert refused["Content-Type"] == "application/problem+json"
    assert api.post(f"/api/v1/assignments/{whole.pk}/return/", {}, format="json").status_code == 409
    assert Assignment.objects.get(distributor=johor, ended_at=None).last_position == 30  # johor keeps it


def test_returning_an_assignment_frees_its_positions(api, batch, kl):
    whole = assign(batch, kl, 1, 30)
    returned = api.post(f"/api/v1/assignments/{whole.pk}/return/", {"first_position": 21}, format="json")
    assert returned.status_code == 200, returned.content
    assert returned.json()["ended"]["state"] == "returned"
    assert [(a["first_position"], a["last_position"]) for a in returned.json()["created"]] == [(1, 20)]
    assert services.free_ranges(batch) == [(21, 60)]


def test_a_distributors_key_receives_its_assignment(kl_api, batch, kl):
    whole = assign(batch, kl, 11, 20)
    received = kl_api.post(f"/api/v1/assignments/{whole.pk}/receive/")
    assert received.status_code == 200, received.content
    assert received.json()["units"] == 10 and received.json()["assignment"]["state"] == "received"
    assert received_positions(batch) == list(range(11, 21))
    assert kl_api.post(f"/api/v1/assignments/{whole.pk}/receive/").json()["units"] == 0  # a repeat changes nothing


def test_the_brand_receives_an_assignment_too(api, batch, kl):
    whole = assign(batch, kl, 1, 5)
    assert api.post(f"/api/v1/assignments/{whole.pk}/receive/").json()["units"] == 5


def test_an_assignment_that_has_ended_cannot_be_received(kl_api, batch, kl):
    whole = assign(batch, kl, 1, 5)
    services.reassign_assignment(assignment=whole, to=None)
    refused = kl_api.post(f"/api/v1/assignments/{whole.pk}/receive/")
    assert refused.status_code == 409 and received_positions(batch) == []
    assert kl_api.get(f"/api/v1/assignments/{whole.pk}/").json()["state"] == "returned"  # its history stays


def test_a_distributors_key_sees_only_its_own_assignments(kl_api, batch, kl, johor):
    mine = assign(batch, kl, 1, 10)
    sibling = assign(batch, johor, 11, 20)
    assert [a["id"] for a in kl_api.get("/api/v1/assignments/").json()["results"]] == [mine.pk]
    assert kl_api.get(f"/api/v1/assignments/?distributor={johor.pk}").json()["results"] == []
    assert kl_api.get(f"/api/v1/assignments/{mine.pk}/").status_code == 200
    assert kl_api.get(f"/api/v1/assignments/{sibling.pk}/").status_code == 404
    assert kl_api.post(f"/api/v1/assignments/{sibling.pk}/receive/").status_code == 404
    assert received_positions(batch) == []


def test_a_distributors_key_does_not_learn_a_siblings_assignment_id(batch, kl, johor):
    given = assign(batch, johor, 1, 30)
    services.reassign_assignment(assignment=given, to=kl, first_position=1, last_position=10)
    johor_api = key_client(batch.product.brand, "read", distributor=johor)
    kl_rows = key_client(batch.product.brand, "read", distributor=kl).get("/api/v1/assignments/").json()["results"]
    assert [(a["first_position"], a["replaces"]) for a in kl_rows] == [(1, None)]
    johor_rows = johor_api.get("/api/v1/assignments/?current=true").json()["results"]
    assert [(a["first_position"], a["replaces"]) for a in johor_rows] == [(11, given.pk)]


def test_a_distributors_key_cannot_assign_move_or_return(kl_api, batch, kl, johor):
    mine = assign(batch, kl, 1, 10)
    body = {"batch": batch.pk, "distributor": kl.pk, "first_position": 11, "last_position": 20}
    assert kl_api.post("/api/v1/assignments/", body, format="json").status_code == 404
    assert kl_api.post(f"/api/v1/assignments/{mine.pk}/move/", {"to": johor.pk}, format="json").status_code == 404
    assert kl_api.post(f"/api/v1/assignments/{mine.pk}/return/", {}, format="json").status_code == 404
    assert list(Assignment.objects.values_list("pk", flat=True)) == [mine.pk]


def test_a_read_only_distributors_key_cannot_receive(batch, kl):
    mine = assign(batch, kl, 1, 10)
    read = key_client(batch.product.brand, "read", distributor=kl)
    assert read.get(f"/api/v1/assignments/{mine.pk}/").status_code == 200
    assert read.post(f"/api/v1/assignments/{mine.pk}/receive/").status_code == 403
    assert received_positions(batch) == []


def test_a_read_key_lists_assignments_but_cannot_change_them(read_api, batch, kl, johor):
    mine = assign(batch, kl, 1, 10)
    assert [a["id"] for a in read_api.get("/api/v1/assignments/").json()["results"]] == [mine.pk]
    body = {"batch": batch.pk, "distributor": kl.pk, "first_position": 11, "last_position": 20}
    assert read_api.post("/api/v1/assignments/", body, format="json").status_code == 403
    assert read_api.post(f"/api/v1/assignments/{mine.pk}/move/", {"to": johor.pk}, format="json").status_code == 403
    assert read_api.post(f"/api/v1/assignments/{mine.pk}/return/", {}, format="json").status_code == 403
    assert read_api.post(f"/api/v1/assignments/{mine.pk}/receive/").status_code == 403
    assert Assignment.objects.count() == 1 and received_positions(batch) == []


def test_another_brands_assignment_is_404(outsider_api, other_brand, batch, kl):
    mine = assign(batch, kl, 1, 10)
    theirs = DistributorFactory(brand=other_brand)
    assert outsider_api.get(f"/api/v1/assignments/{mine.pk}/").status_code == 404
    assert (
        outsider_api.post(f"/api/v1/assignments/{mine.pk}/move/", {"to": theirs.pk}, format="json").status_code == 404
    )
    assert outsider_api.post(f"/api/v1/assignments/{mine.pk}/return/", {}, format="json").status_code == 404
    assert outsider_api.post(f"/api/v1/assignments/{mine.pk}/receive/").status_code == 404
    assert outsider_api.get("/api/v1/assignments/").json()["results"] == []
    assert Assignment.objects.get(pk=mine.pk).ended_at is None and received_positions(batch) == []


@pytest.mark.parametrize(
    "url", ["/api/v1/distributors/", "/api/v1/assignments/", "/api/v1/cartons/", "/api/v1/assignments/1/receive/"]
)
def test_no_key_is_401(url):
    assert APIClient().get(url).status_code == 401
    assert APIClient().post(url, {}, format="json").status_code == 401


# --- cartons ----------------------------------------------------------------------------------------------


def test_cartons_are_packed_with_new_ssccs(api, batch):
    body = {"batch": batch.pk, "first_position": 1, "last_position": 36, "size": 12, "company_prefix": PREFIX}
    packed = api.post("/api/v1/cartons/", body, format="json")
    assert packed.status_code == 201, packed.content
    cartons = packed.json()["cartons"]
    assert [(c["first_position"], c["last_position"], c["quantity"]) for c in cartons] == [
        (1, 12, 12),
        (13, 24, 12),
        (25, 36, 12),
    ]
    assert all(gs1.is_valid_sscc(c["sscc"]) and c["sscc"][1:8] == PREFIX for c in cartons)
    assert len({c["sscc"] for c in cartons}) == 3
    assert api.get(f"/api/v1/cartons/{cartons[0]['id']}/").json()["sscc"] == cartons[0]["sscc"]
    assert api.get(f"/api/v1/cartons/?sscc={cartons[1]['sscc']}").json()["results"][0]["first_position"] == 13


def test_cartons_go_under_the_brands_approved_prefix_when_none_is_named(api, batch):
    body = {"batch": batch.pk, "first_position": 1, "last_position": 10, "size": 5}
    packed = api.post("/api/v1/cartons/", body, format="json")
    assert packed.status_code == 201, packed.content
    assert [c["sscc"][1:8] for c in packed.json()["cartons"]] == [PREFIX, PREFIX]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"size": 7}, "size"),
        ({"company_prefix": "4006381"}, "company_prefix"),
        ({"first_position": 1}, "first_position"),
    ],  # packed already
)
def test_bad_packing_is_refused_naming_the_field(api, batch, fields, field):
    pack(batch, 1, 12, 12)
    body = {"batch": batch.pk, "first_position": 13, "last_position": 60, "size": 12, "company_prefix": PREFIX}
    refused = api.post("/api/v1/cartons/", body | fields, format="json")
    assert refused.status_code == 400 and field in field_errors(refused)
    assert Carton.objects.count() == 1


def test_a_carton_is_assigned_with_exactly_its_units(api, batch, kl):
    carton = pack(batch)[1]
    made = api.post(f"/api/v1/cartons/{carton.pk}/assign/", {"distributor": kl.pk}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["first_position"], made.json()["last_position"]) == (13, 24)
    assert made.json()["shipment_reference"] == carton.sscc
    again = api.post(f"/api/v1/cartons/{carton.pk}/assign/", {"distributor": kl.pk}, format="json")
    assert again.status_code == 400 and "already assigned to KL Wholesale" in again.json()["detail"]


def test_a_distributors_key_sees_only_cartons_inside_its_ranges(kl_api, batch, kl, johor):
    cartons = pack(batch)
    assign(batch, kl, 1, 24)  # the first two cartons
    assign(batch, johor, 25, 36)
    seen = [c["id"] for c in kl_api.get("/api/v1/cartons/").json()["results"]]
    assert sorted(seen) == [cartons[0].pk, cartons[1].pk]
    assert kl_api.get(f"/api/v1/cartons/{cartons[2].pk}/").status_code == 404
    assert kl_api.post(f"/api/v1/cartons/{cartons[2].pk}/receive/").status_code == 404
    assert received_positions(batch) == []


def test_a_distributors_key_receives_a_carton(kl_api, batch, kl):
    carton = pack(batch)[0]
    assign(batch, kl, 1, 24)
    received = kl_api.post(f"/api/v1/cartons/{carton.pk}/receive/")
    assert received.status_code == 200, received.content
    assert received.json()["units"] == 12 and received.json()["carton"]["received"] is True
    assert received_positions(batch) == list(range(1, 13))
    assert kl_api.get("/api/v1/cartons/?received=true").json()["results"][0]["id"] == carton.pk


def test_a_distributors_key_cannot_pack_or_assign_cartons(kl_api, batch, kl):
    carton = pack(batch, 1, 12, 12)[0]
    assign(batch, kl, 1, 12)
    body = {"batch": batch.pk, "first_position": 13, "last_position": 24, "size": 12, "company_prefix": PREFIX}
    assert kl_api.post("/api/v1/cartons/", body, format="json").status_code == 404
    assert kl_api.post(f"/api/v1/cartons/{carton.pk}/assign/", {"distributor": kl.pk}, format="json").status_code == 404
    assert Carton.objects.count() == 1


def test_a_read_key_cannot_pack_assign_or_receive(read_api, batch, kl):
    carton = pack(batch, 1, 12, 12)[0]
    body = {"batch": batch.pk, "first_position": 13, "last_position": 24, "size": 12, "company_prefix": PREFIX}
    assert read_api.get(f"/api/v1/cartons/{carton.pk}/").status_code == 200
    assert read_api.post("/api/v1/cartons/", body, format="json").status_code == 403
    assert (
        read_api.post(f"/api/v1/cartons/{carton.pk}/assign/", {"distributor": kl.pk}, format="json").status_code == 403
    )
    assert read_api.post(f"/api/v1/cartons/{carton.pk}/receive/").status_code == 403
    assert Carton.objects.count() == 1 and not Assignment.objects.exists() and received_positions(batch) == []


def test_another_brands_carton_is_404(outsider_api, other_brand, batch):
    carton = pack(batch, 1, 12, 12)[0]
    theirs = DistributorFactory(brand=other_brand)
    assert outsider_api.get(f"/api/v1/cartons/{carton.pk}/").status_code == 404
    assert outsider_api.post(f"/api/v1/cartons/{carton.pk}/receive/").status_code == 404
    assign_url = f"/api/v1/cartons/{carton.pk}/assign/"
    assert outsider_api.post(assign_url, {"distributor": theirs.pk}, format="json").status_code == 404
    body = {"batch": batch.pk, "first_position": 13, "last_position": 24, "size": 12, "company_prefix": PREFIX}
    refused = outsider_api.post("/api/v1/cartons/", body, format="json")
    assert refused.status_code == 400 and "batch" in field_errors(refused)
    assert outsider_api.get("/api/v1/cartons/").json()["results"] == []
    assert Carton.objects.count() == 1 and received_positions(batch) == []


# --- query counts -----------------------------------------------------------------------------------------


def queries_of(client, url) -> int:
    client.get(url)  # the key's last-used time is written once a minute: not on the measured call
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["brand", "distributor"])
def test_lists_take_as_many_queries_for_many_rows_as_for_one(api, kl_api, batch, kl, johor, who):
    client = api if who == "brand" else kl_api
    cartons = pack(batch, 1, 60, 5)
    assign(batch, kl, 1, 5)
    few = {url: queries_of(client, url) for url in ("/api/v1/assignments/", "/api/v1/cartons/")}
    given = assign(batch, kl, 6, 40)  # then cut in three, with history rows that replace it
    services.reassign_assignment(assignment=given, to=johor, first_position=11, last_position=20)
    services.receive_carton(carton=cartons[1])
    many = {url: queries_of(client, url) for url in few}
    assert many == few
