"""A GTIN belongs to its prefix's owner: a brand whose claim is merely pending holds GTINs for trials, but only
until an operator approves the prefix for someone else."""

from django.test import Client

from brands import services as brand_services
from codes import services
from codes.models import Code, Product
from tests.factories import BrandFactory, MembershipFactory, logged_in_client, ready_batch

PREFIX, GTIN = "9506000", "09506000134352"


def product_of(brand, gtin=GTIN, name="Vitamin C"):
    return services.create_product(brand=brand, name=name, gtin=gtin, serial_alphabet="alnum", serial_length=12)


def test_a_pending_claims_gtin_goes_to_the_brand_an_operator_approves(db):
    squatter, owner = BrandFactory(prefix=""), BrandFactory(prefix="")
    brand_services.claim_prefix(brand=squatter, prefix=PREFIX)
    squatted = product_of(squatter)
    code = Code.objects.filter(batch=ready_batch(squatted, quantity=2, activated=True)).first()
    brand_services.approve_brand_prefix(brand=owner, prefix=PREFIX)

    genuine = product_of(owner)  # used to fail: "Product with this GTIN already exists"
    squatted.refresh_from_db()
    assert genuine.gtin == GTIN and squatted.gtin is None and squatted.ref.startswith(f"{squatter.slug}.")
    answer = Client().get(f"/01/{GTIN}/21/{code.serial}", HTTP_ACCEPT="application/json")
    assert answer.status_code == 404 and answer.json()["authentic"] is False  # the GTIN leads to its owner now


def test_the_owner_takes_its_gtin_through_the_product_form_too(db):
    squatter = BrandFactory(prefix="")
    owner = MembershipFactory(brand=BrandFactory(prefix="")).brand
    brand_services.claim_prefix(brand=squatter, prefix=PREFIX)
    product_of(squatter)
    brand_services.approve_brand_prefix(brand=owner, prefix=PREFIX)
    client = logged_in_client(owner.memberships.get())
    data = {"name": "Vitamin C", "identifier_kind": "gtin", "gtin": GTIN, "serial_alphabet": "alnum"}
    data["serial_length"] = "12"
    response = client.post("/products/new/", data)
    assert response.status_code == 302 and Product.objects.get(gtin=GTIN).brand == owner


def test_once_a_prefix_is_approved_a_pending_claimant_registers_nothing_more_under_it(db):
    late, owner = BrandFactory(prefix=""), BrandFactory(prefix="")
    brand_services.claim_prefix(brand=late, prefix=PREFIX)
    brand_services.approve_brand_prefix(brand=owner, prefix=PREFIX)
    problem = services.gtin_problem(late, "09506000134369")
    assert problem and "approved for another brand" in problem


def test_between_pending_claims_the_first_registration_holds(db):
    first, second = BrandFactory(prefix=""), BrandFactory(prefix="")
    for brand in (first, second):
        brand_services.claim_prefix(brand=brand, prefix=PREFIX)
    product_of(first)
    problem = services.gtin_problem(second, GTIN)
    assert problem and "under review" in problem
    assert Product.objects.get(gtin=GTIN).brand == first
