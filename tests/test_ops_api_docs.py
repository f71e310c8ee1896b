"""The OpenAPI schema and Swagger UI: for signed-in users, served by the hub itself."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_401_without_credentials(client):
    response = client.get("/api/schema/")

    assert response.status_code == 401
    assert b"openapi" not in response.content


def test_the_schema_answers_to_an_api_token(client, admin_user):
    from config.security.services import api_token_create

    _, key = api_token_create(user=admin_user, expires_at=None)

    response = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert b"openapi" in response.content


def test_the_docs_send_an_anonymous_visitor_to_the_login_page(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/api/docs/")


def test_the_docs_load_swagger_ui_from_the_hub_and_no_inline_script(admin_client):
    page = admin_client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "<script>" not in page
    script = admin_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
