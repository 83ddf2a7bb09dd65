"""The GS1-conformant resolver on the verify routes (GS1-Conformant Resolver Standard 1.2), one test per check of
GS1's own suite (github:gs1/GS1DL-resolver-testsuite, its ids in each test's comment; README: GS1 resolver), plus
what the suite cannot see: a person still gets the verify page, and a machine's request is no scan.

The suite's isURL, validDL, plausibleDL check the URI given to it (our printed path: tests/codes/test_gs1.py),
and tlsOK, isHttps, httpVersion the server in front (TLS and HTTP/1.1 are the proxy's and gunicorn's).
"""

import json
from pathlib import Path

import jsonschema
import pytest
from django.test import Client

from codes import links, linktypes
from codes.gs1 import gtin_check_digit
from codes.models import Code
from scans import resolver
from scans.models import Scan
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import IPHONE, qr_path

VENDOR = Path(__file__).resolve().parent.parent / "vendor" / "gs1"
LINKSET_SCHEMA = json.loads((VENDOR / "gs1-linkset-schema.json").read_text())
DESCRIPTION_SCHEMA = json.loads((VENDOR / "description-file-schema-1.2.0.json").read_text())
BASE = "https://verify.example.com"
MACHINE = {"HTTP_ACCEPT": "*/*", "HTTP_ORIGIN": "https://ref.gs1.org"}  # what the suite's helper (curl) sends
LINKS = [
    ("gs1:pip", "https://acme.example/vit-c", "Vitamin C", "en", "text/html"),
    ("gs1:epil", "https://acme.example/leaflet-en.pdf", "Leaflet", "en", "application/pdf"),
    ("gs1:epil", "https://acme.example/leaflet-ms.pdf", "Risalah", "ms", "application/pdf"),
    ("gs1:recallStatus", "https://acme.example/recalls", "Recall status", "", "text/html"),
]


@pytest.fixture(autouse=True)
def _base(settings):
    settings.VERIFY_BASE_URL = BASE


@pytest.fixture
def unit(brand):
    """A live unit of a product carrying the links above; its path is the printed QR's without the expiry."""
    product = ProductFactory(brand=brand, name="Vitamin C 1000 mg")
    for link_type, href, title, language, media_type in LINKS:
        links.add_link(
            product=product, link_type=link_type, href=href, title=title, language=language, media_type=media_type
        )
    batch = ready_batch(product, quantity=2, activated=True)
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).first()


def path_of(code) -> str:
    return qr_path(code, with_expiry=False)


def get(path, **headers):
    return Client().get(path, **{**MACHINE, **headers})


def linkset_of(response) -> dict:
    assert response["Content-Type"] == resolver.LINKSET_TYPE
    return json.loads(response.content)


# --- rdFile ---------------------------------------------------------------------------------------------------


def test_the_description_file_validates_against_gs1s_schema_and_allows_any_origin(db):
    response = get("/.well-known/gs1resolver")  # rdFile
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    jsonschema.Draft7Validator(DESCRIPTION_SCHEMA).validate(response.json())
    assert response.json()["resolverRoot"] == BASE and response.json()["supportedPrimaryKeys"] == ["01"]


# --- corsCheck, methodsCheck, linkOnRedirect, legacyLinkHeaders -----------------------------------------------


def test_a_preflight_declares_cors_the_three_methods_and_only_the_linkset_link(unit):
    response = Client().options(
        path_of(unit), HTTP_ORIGIN="https://ref.gs1.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"  # corsCheck
    assert all(m in response["Access-Control-Allow-Methods"] for m in ("GET", "HEAD", "OPTIONS"))  # methodsCheck
    assert 'rel="linkset"' in response["Link"]  # linkOnRedirect
    assert 'rel="gs1:' not in response["Link"]  # legacyLinkHeaders


def test_a_redirect_carries_the_link_to_its_linkset(unit):
    response = get(path_of(unit))  # linkOnRedirect
    assert response.status_code == 307
    assert (
        response["Link"] == f'<{BASE}{path_of(unit)}?linkType=linkset>; rel="linkset"; type="application/linkset+json"'
    )


def test_head_answers_as_get(unit):
    response = Client().head(path_of(unit), **MACHINE)  # methodsCheck (HEAD)
    assert response.status_code == 307 and response["Location"] == get(path_of(unit))["Location"]


# --- reportWith400, noErrorWith200 ----------------------------------------------------------------------------


def test_a_malformed_digital_link_is_a_400_for_a_machine(unit):
    response = get(path_of(unit) + "/foo")  # reportWith400, noErrorWith200
    assert response.status_code == 400 and b"Not a valid GS1 Digital Link" in response.content


def test_a_malformed_digital_link_is_never_200_for_a_person_either(unit):
    response = Client().get(path_of(unit) + "/foo", HTTP_ACCEPT="text/html", HTTP_USER_AGENT=IPHONE)
    assert response.status_code >= 400 and response["Content-Type"].startswith("text/html")  # a page, as before


# --- trailingSlash --------------------------------------------------------------------------------------------


def test_a_trailing_slash_changes_nothing(unit):
    plain, slashed = get(path_of(unit)), get(path_of(unit) + "/")  # trailingSlash
    assert (plain.status_code, plain["Location"]) == (slashed.status_code, slashed["Location"])


# --- basicWalkUp ----------------------------------------------------------------------------------------------


def test_an_unknown_lot_walks_up_to_the_product(unit):
    response = get(f"/01/{unit.product.gtin}/10/KL8G")  # basicWalkUp
    assert response.status_code == 307 and response["Location"] == "https://acme.example/vit-c"  # its gs1:pip


def test_an_unknown_serials_linkset_is_the_products(unit):
    data = linkset_of(get(f"/01/{unit.product.gtin}/21/NOSUCHSERIAL", HTTP_ACCEPT=resolver.LINKSET_TYPE))
    item = data["linkset"][0]
    assert item["anchor"] == f"{BASE}/01/{unit.product.gtin}"
    assert linktypes.uri("verificationService") not in item  # no unit to verify there
    assert item[linktypes.uri("defaultLink")] == [{"href": "https://acme.example/vit-c", "title": "Vitamin C"}]


def test_a_wrong_lot_of_a_real_serial_is_not_that_unit(unit):
    data = linkset_of(get(f"/01/{unit.product.gtin}/10/WRONG/21/{unit.serial}?linkType=linkset"))
    assert data["linkset"][0]["anchor"] == f"{BASE}/01/{unit.product.gtin}"


def test_a_product_without_links_defaults_to_its_verify_page(brand):
    product = ProductFactory(brand=brand)
    response = get(f"/01/{product.gtin}/21/UNKNOWN")
    assert response["Location"] == f"{BASE}/verify/01/{product.gtin}"


def test_an_unregistered_gtin_is_404(db):
    assert get("/01/09506000134352/21/ABC").status_code == 404


def test_an_unverified_brands_product_gets_no_answers(brand):
    body = "0061414100001"  # a prefix the brand never had approved
    product = ProductFactory(brand=brand, gtin=body + gtin_check_digit(body))
    links.add_link(product=product, link_type="gs1:pip", href="https://impostor.example/", title="Trust me")
    assert get(f"/01/{product.gtin}?linkType=gs1:pip").status_code == 404


# --- qsPassedOn -----------------------------------------------------------------------------------------------


def test_the_query_string_is_passed_on_when_redirecting(unit):
    printed = qr_path(unit)  # with its expiry: ?17=YYMMDD
    response = get(printed + "&foo=bar")  # qsPassedOn
    assert response["Location"] == f"{BASE}/verify{printed}&foo=bar"


def test_a_link_types_redirect_carries_the_query_on(unit):
    response = get(path_of(unit) + "?linkType=gs1:pip&foo=bar")
    assert response["Location"] == "https://acme.example/vit-c?linkType=gs1:pip&foo=bar"


# --- ltLinksetNoRedirect, ltAcceptHeader, validLinkset, linksetJsonldCheck, declaredContentType ---------------


@pytest.mark.parametrize(
    "query, accept",
    [
        ("?linkType=linkset", "*/*"),  # ltLinksetNoRedirect
        ("?linkType=all", resolver.LINKSET_TYPE),  # ltAcceptHeader (the suite asks both ways at once)
        ("", resolver.LINKSET_TYPE),  # validLinkset's fetch
        ("?linkType=linkset", "text/html"),  # a person asking for it explicitly
    ],
)
def test_the_linkset_is_served_without_a_redirect(unit, query, accept):
    response = get(path_of(unit) + query, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/linkset+json"  # declaredContentType
    context = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    assert context in response["Link"]  # linksetJsonldCheck


def test_the_linkset_validates_against_gs1s_linkset_schema(unit):
    data = linkset_of(get(path_of(unit), HTTP_ACCEPT=resolver.LINKSET_TYPE))  # validLinkset
    jsonschema.Draft7Validator(LINKSET_SCHEMA).validate(data)
    item = data["linkset"][0]
    assert item["anchor"] == BASE + path_of(unit) and item["itemDescription"] == "Vitamin C 1000 mg"
    assert [link["href"] for link in item[linktypes.uri("epil")]] == [
        "https://acme.example/leaflet-en.pdf",
        "https://acme.example/leaflet-ms.pdf",
    ]


def test_the_schema_rejects_what_our_linkset_must_not_be(unit):
    """The schema check can fail: a link without a title, or a short link relation, is refused."""
    data = linkset_of(get(path_of(unit), HTTP_ACCEPT=resolver.LINKSET_TYPE))
    bad = json.loads(json.dumps(data))
    del bad["linkset"][0][linktypes.uri("pip")][0]["title"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(LINKSET_SCHEMA).validate(bad)


# --- defaultLinkExists, singleDefaulLink, defaultTarget -------------------------------------------------------


def test_a_unit_has_exactly_one_default_link_its_verify_page_and_is_sent_there(unit):
    item = linkset_of(get(path_of(unit) + "?linkType=linkset"))["linkset"][0]
    defaults = item[linktypes.uri("defaultLink")]  # defaultLinkExists
    page = f"{BASE}/verify{path_of(unit)}"
    assert defaults == [{"href": page, "title": "Verify this unit"}]  # singleDefaulLink: a title, nothing more
    assert get(path_of(unit))["Location"] == page  # defaultTarget
    assert item[linktypes.uri("verificationService")][0]["href"] == page


# --- loFor<linkType>, loFor<linkType><n>, the 300 --------------------------------------------------------------


@pytest.mark.parametrize(
    "link_type, target",
    [("gs1:pip", "https://acme.example/vit-c"), ("gs1:recallStatus", "https://acme.example/recalls")],
)
def test_a_link_type_that_exists_redirects_to_it(unit, link_type, target):
    response = get(f"{path_of(unit)}?linkType={link_type}")  # loForgs1pip, loForgs1recallStatus
    assert response.status_code == 307 and response["Location"] == f"{target}?linkType={link_type}"


def test_the_verification_service_is_the_verify_page(unit):
    response = get(f"{path_of(unit)}?linkType=https://gs1.org/voc/verificationService")  # loForgs1verificationService
    assert response["Location"].startswith(f"{BASE}/verify{path_of(unit)}?")


@pytest.mark.parametrize(
    "language, target",
    [("en", "https://acme.example/leaflet-en.pdf"), ("ms-MY,en;q=0.5", "https://acme.example/leaflet-ms.pdf")],
)
def test_of_two_leaflets_the_one_in_the_clients_language_is_chosen(unit, language, target):
    response = get(  # loForgs1epil0, loForgs1epil1
        f"{path_of(unit)}?linkType=gs1:epil", HTTP_ACCEPT="application/pdf", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 307 and response["Location"].startswith(target + "?")


def test_two_equal_links_of_a_type_are_300_multiple_choices(unit):
    links.add_link(
        product=unit.product,
        link_type="gs1:pip",
        href="https://acme.example/vit-c-2",
        title="Vitamin C, again",
        language="en",
        media_type="text/html",
    )
    response = get(f"{path_of(unit)}?linkType=gs1:pip", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 300
    offered = linkset_of(response)["linkset"][0][linktypes.uri("pip")]
    assert {link["href"] for link in offered} == {"https://acme.example/vit-c", "https://acme.example/vit-c-2"}


# --- linkTypesDefined -----------------------------------------------------------------------------------------


def test_every_link_type_in_the_linkset_is_a_ratified_one(unit):
    item = linkset_of(get(path_of(unit) + "?linkType=linkset"))["linkset"][0]
    relations = [key for key in item if key not in ("anchor", "itemDescription")]
    assert relations and all(linktypes.term_of(relation) for relation in relations)  # linkTypesDefined


# --- specificLinkTypeNotFound ---------------------------------------------------------------------------------


@pytest.mark.parametrize("link_type", ["gs1:nosuchlt", "gs1:smpc"])
def test_a_link_type_that_does_not_exist_is_404(unit, link_type):
    response = get(f"{path_of(unit)}?linkType={link_type}")  # specificLinkTypeNotFound
    assert response.status_code == 404 and 'rel="linkset"' in response["Link"]


# --- what the suite cannot see --------------------------------------------------------------------------------


def test_a_phone_still_gets_the_verify_page_with_its_verdict(unit):
    response = Client().get(path_of(unit), HTTP_ACCEPT="text/html,*/*;q=0.8", HTTP_USER_AGENT=IPHONE)
    assert response.status_code == 200 and b"Authentic" in response.content


def test_a_brands_app_still_gets_the_json_verdict(unit):
    response = Client().get(path_of(unit), HTTP_ACCEPT="application/json", HTTP_USER_AGENT=IPHONE)
    assert response.json()["authentic"] is True


def test_the_verify_pages_own_address_shows_the_verdict_to_any_client(unit):
    response = get(f"/verify{path_of(unit)}")
    assert response.status_code == 200 and b"Authentic" in response.content


def test_a_machines_questions_are_no_scans(unit):
    get(path_of(unit))
    get(path_of(unit) + "?linkType=linkset")
    Client().options(path_of(unit))
    assert not Scan.objects.exists()


def test_a_machines_request_reads_only_the_products_links(unit, django_assert_num_queries):
    get(path_of(unit))  # warms the per-process product cache
    with django_assert_num_queries(1):
        get(path_of(unit) + "?linkType=gs1:pip")


def test_a_link_type_may_be_named_by_curie_uri_or_term():
    assert linktypes.term_of("gs1:pip") == linktypes.term_of("https://ref.gs1.org/voc/pip") == "pip"
    assert linktypes.term_of("gs1:nosuchlt") is None and linktypes.term_of("pip") == "pip"


# --- scans.resolver alone -------------------------------------------------------------------------------------


def entity(*links_):
    default = resolver.Link("defaultLink", "https://x.example/verify", "Verify")
    return resolver.Entity("https://x.example/01/09506000134352", "Item", default, tuple(links_))


def test_without_a_language_preference_two_languages_cannot_be_decided():
    en = resolver.Link("epil", "https://x.example/en", "Leaflet", "en")
    ms = resolver.Link("epil", "https://x.example/ms", "Risalah", "ms")
    answer = resolver.resolve(entity(en, ms), link_type="gs1:epil", accept="*/*", accept_language="", query="")
    assert answer.status == 300


def test_a_link_for_any_language_serves_a_language_no_link_names():
    en = resolver.Link("epil", "https://x.example/en", "Leaflet", "en")
    anyone = resolver.Link("epil", "https://x.example/any", "Leaflet")
    answer = resolver.resolve(entity(en, anyone), link_type="gs1:epil", accept="", accept_language="fr", query="")
    assert answer.location == "https://x.example/any"


def test_the_media_type_decides_between_otherwise_equal_links():
    html = resolver.Link("pip", "https://x.example/page", "Page", "en", "text/html")
    pdf = resolver.Link("pip", "https://x.example/page.pdf", "Page", "en", "application/pdf")
    answer = resolver.resolve(
        entity(html, pdf), link_type="gs1:pip", accept="application/pdf", accept_language="en", query="a=1"
    )
    assert answer.location == "https://x.example/page.pdf?a=1"


def test_languages_are_read_in_order_of_preference():
    assert resolver.languages("ms;q=0.5, en-GB, fr;q=0, *;q=0.1") == ["en-gb", "ms"]


@pytest.mark.parametrize(
    "accept, query, machine",
    [
        ("text/html,application/xhtml+xml,*/*;q=0.8", "", False),  # a phone's browser
        ("application/json", "", False),  # brands' apps: the JSON verdict
        ("", "", False),  # nothing said: the page, as before
        ("*/*", "", True),  # curl, GS1's tools
        ("application/linkset+json", "", True),
        ("text/html", "linkType=gs1:pip", True),  # a person following a link-type link
    ],
)
def test_who_the_resolver_answers(accept, query, machine):
    assert resolver.is_machine_request(accept=accept, query=query) is machine
