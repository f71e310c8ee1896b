"""The Content-Security-Policy (django-csp, config/settings/base.py, ops/csp.py)."""

import pytest
from django.conf import settings

from ops.csp import inline_handler_hashes, inline_handlers, is_static, source_hash, template_files
from tests.test_settings import ROOT


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
def test_admin_pages_carry_a_policy_of_the_hub_s_own_sources(admin_client):
    policy = policy_of(admin_client.get("/admin/"))

    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'self'" in policy["form-action"]


def test_forms_may_continue_to_pm_s_authorize_page():
    form_action = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
    origin = settings.PM_AUTHORIZE_URL.split("/", 3)[:3]

    assert "/".join(origin) in form_action


def test_every_inline_handler_in_the_templates_is_allowed_by_its_hash():
    handlers = list(inline_handlers(template_files(ROOT)))
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"]

    assert handlers, "the admin's confirmations were not found: the scan is wrong"
    dynamic = [f"{path}: {text}" for path, text in handlers if not is_static(text)]
    assert dynamic == [], (
        "an inline handler with template tags can't be allowed by a hash; move the "
        "value into a data- attribute"
    )
    assert {source_hash(text) for _, text in handlers} <= set(allowed)


def test_a_handler_found_in_no_template_is_not_allowed():
    allowed = set(inline_handler_hashes(ROOT))

    assert source_hash("alert(document.cookie)") not in allowed


def test_the_scan_skips_installed_packages_and_tests():
    scanned = [path.relative_to(ROOT).parts[0] for path in template_files(ROOT)]

    assert not {".venv", "tests", "benchmarks"} & set(scanned)
    assert "templates" in scanned
