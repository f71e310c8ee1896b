"""The OpenAPI schema of API v1: served, valid, free of warnings, with the error shape."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_endpoint_answers_200_with_the_api_and_without_the_sandbox(admin_client):
    # For signed-in users only; anonymous callers get 401 (tests/test_ops_api_docs.py).
    response = admin_client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert "/api/v1/contacts/{id}/resync/" in schema["paths"]
    assert not any(path.startswith("/sandbox/") for path in schema["paths"])


def test_the_schema_validates_with_no_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) >= {
        f"/api/v1/{name}/{suffix}"
        for name in ["contacts", "matters", "timekeepers", "time-entries", "links", "sync-events"]
        for suffix in ["", "{id}/"]
    } | {"/api/v1/contacts/{id}/resync/", "/api/v1/matters/{id}/resync/"}


def test_the_error_shape_is_a_documented_component(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    components = schema["components"]["schemas"]

    assert components["Error"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert set(components["ErrorDetail"]["properties"]) == {"code", "message", "fields"}
    contact_list = schema["paths"]["/api/v1/contacts/"]["get"]["responses"]
    assert contact_list["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert components["LinkStatus"]["enum"] == ["synced", "unsynced", "pending", "unknown", "error"]
