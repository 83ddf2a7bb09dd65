"""A distributor's rules (a name without control characters, a code unique in the brand, a territory of ISO 3166
codes) live in the distributor services: the pages and the Django admin both save through them."""

import pytest

from distributors import services
from distributors.models import Distributor
from tests.factories import DistributorFactory, UserFactory, verified_client


@pytest.fixture
def staff(db):
    return verified_client(UserFactory(is_staff=True, is_superuser=True))


def _admin_distributor(brand, **changes) -> dict:
    data = {"brand": brand.pk, "name": "North", "code": "NORTH", "territory": '["MY-14"]'}
    return {**data, "contact_name": "", "contact_email": "", "phone": "", **changes}


def test_the_service_refuses_a_name_that_breaks_mails(brand):
    with pytest.raises(services.DistributorError) as refused:
        services.create_distributor(brand=brand, name="North\nBcc: x@example.com", code="N", territory="MY-14")
    assert refused.value.field == "name" and not Distributor.objects.exists()


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"territory": '["MY-99"]'}, "MY-99 is not an ISO 3166"),
        ({"code": "taken"}, "has the code TAKEN"),
        ({"code": "no spaces"}, "Use up to 20 letters"),
        ({"name": "North\r\nBcc: x@example.com"}, "no line breaks"),
    ],
)
def test_the_admin_refuses_a_distributor_the_rules_forbid(staff, brand, changes, why):
    DistributorFactory(brand=brand, code="TAKEN")
    response = staff.post("/admin/distributors/distributor/add/", _admin_distributor(brand, **changes), follow=True)
    assert why in response.content.decode()
    assert Distributor.objects.filter(brand=brand).count() == 1


def test_the_admin_adds_and_changes_a_distributor_through_the_service(staff, brand):
    assert staff.post("/admin/distributors/distributor/add/", _admin_distributor(brand, code="kl")).status_code == 302
    distributor = Distributor.objects.get()
    assert distributor.code == "KL"  # cleaned as the service cleans codes
    url = f"/admin/distributors/distributor/{distributor.pk}/change/"
    staff.post(url, _admin_distributor(brand, code="KL", territory='["MY-99"]'))
    distributor.refresh_from_db()
    assert distributor.territory == ["MY-14"]
