"""The OpenAPI file clients are generated from, and its docs, served from our own static files."""

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_as_json_when_asked():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.") and "/api/v1/account/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "application/problem+json" in schema["paths"]["/api/v1/account/"]["get"]["responses"]["404"]["content"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/docs/redoc/"])
def test_the_docs_load_no_asset_from_elsewhere(client, page):
    html = client.get(page).content.decode()
    assert "drf_spectacular_sidecar" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_the_schema_validates_without_a_warning(tmp_path):
    """A warning is a client generated with a wrong or unnamed type (drf-spectacular's own validation)."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/imports/" in (tmp_path / "schema.yaml").read_text()
