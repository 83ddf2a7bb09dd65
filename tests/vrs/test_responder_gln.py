"""The brand's own GLN (responderGLN), edited under Settings → Trading partners."""

import pytest

from tests.factories import BrandFactory

from .conftest import BRAND_GLN, PARTNER_GLN

pytestmark = pytest.mark.django_db


def settings_of(brand, **changes):
    return {"name": brand.name, "colour": brand.colour, "consumer_message": "", **changes}


def test_an_admin_gives_the_brand_its_gln_and_answers_carry_it(brand, owner_client):
    assert "Trading partners" in owner_client.get("/settings/").content.decode()
    assert owner_client.post("/settings/", settings_of(brand, gln=BRAND_GLN)).status_code == 302
    brand.refresh_from_db()
    assert brand.gln == BRAND_GLN


@pytest.mark.parametrize("gln", ["0614141000006", "061414100000", "06141410000AB"])
def test_a_gln_with_a_wrong_check_digit_or_length_is_refused_naming_the_field(brand, owner_client, gln):
    response = owner_client.post("/settings/", settings_of(brand, gln=gln))
    assert response.status_code == 200
    assert "A GLN has 13 digits, the last a GS1 check digit." in response.content.decode()
    brand.refresh_from_db()
    assert brand.gln == ""


def test_a_viewer_cannot_change_it(brand, viewer_client):
    assert viewer_client.post("/settings/", settings_of(brand, gln=BRAND_GLN)).status_code == 403


def test_a_brand_without_a_gln_answers_with_none(db):
    from tests.api.conftest import key_client

    partner = key_client(BrandFactory(), "vrs", partner_gln=PARTNER_GLN)
    assert partner.get(f"/vrs/checkConnectivity?reqGLN={PARTNER_GLN}").json()["responderGLN"] is None
