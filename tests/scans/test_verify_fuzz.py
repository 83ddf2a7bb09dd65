"""Hostile input on the public verify route: whatever the path, never a 500."""

from urllib.parse import quote

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codes.models import Code, Product
from tests.factories import ProductFactory, ready_batch

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEGMENTS = st.sampled_from(["01", "10", "21", "17", "22", "235", "", "..", "%", "%2F", "%00", "09506000134352"])


def _assert_handled(path: str, query: str = "") -> None:
    client = Client(raise_request_exception=False)
    for accept in ("text/html", "application/json"):
        response = client.get(path + ("?" + query if query else ""), HTTP_ACCEPT=accept)
        assert response.status_code in (200, 404, 400), (path, query, response.status_code)


@FUZZ
@given(tail=st.text(max_size=80), query=st.text(max_size=40))
def test_arbitrary_text_after_01_never_errors(db, tail, query):
    _assert_handled("/01/" + quote(tail, safe="/%"), quote(query, safe="=&%"))


@FUZZ
@given(parts=st.lists(st.one_of(SEGMENTS, st.text(alphabet="0123456789ABCXYZ%/-._~!", max_size=25)), max_size=8))
def test_mutated_digital_links_never_error(db, parts):
    if not Product.objects.filter(gtin="09506000134352").exists():
        ready_batch(ProductFactory(gtin="09506000134352"), quantity=3, activated=True)
    _assert_handled("/01/" + "/".join(parts))


def test_mutations_of_a_real_code_never_error(db):
    product = ProductFactory(gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=3, activated=True)).first()
    base = f"/01/09506000134352/10/{code.batch.lot.number}/21/{code.serial}"
    for i in range(len(base)):
        for replacement in ("", "%", "/", "0", "é", "%2F", "%25"):
            _assert_handled(base[:i] + quote(replacement, safe="%/") + base[i + 1 :])
