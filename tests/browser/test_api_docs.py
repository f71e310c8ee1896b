"""Swagger UI at /api/docs/ in Chromium with every host but the hub's blocked: its
scripts, styles and the schema all come from the hub (drf-spectacular-sidecar), and the
Content-Security-Policy lets them run; and the policy refuses nothing the hub's own pages
need (the admin, its health and connection pages, the sandbox's)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from matters.models import Matter
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT
from tests.browser.helpers import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
]


@pytest.fixture
def offline_page(browser, live_server, admin_user):
    """A page that may reach the live server and nothing else; answers it with the
    requests it aborted and the console's complaints."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    hub = urlsplit(live_server.url).netloc
    aborted, complaints = [], []

    def only_the_hub(route):
        if urlsplit(route.request.url).netloc == hub:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_hub)
    page = context.new_page()
    page.on(
        "console",
        lambda message: complaints.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: complaints.append(str(error)))
    yield page, aborted, complaints
    context.close()


def test_swagger_ui_shows_the_api_s_operations_with_no_other_host(offline_page):
    page, aborted, complaints = offline_page
    log_in(page, "admin")

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PM ⇄ LA integration hub API")
    contacts = page.locator(".opblock-summary-path", has_text="/api/v1/contacts/").first
    expect(contacts).to_be_visible()
    expect(page.locator(".opblock")).not_to_have_count(0)
    page.locator(".opblock-summary", has_text="/api/v1/contacts/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert aborted == []
    assert [text for text in complaints if "Content Security Policy" in text] == []


def test_an_anonymous_visitor_is_sent_to_the_login_page(offline_page):
    page, aborted, _ = offline_page

    page.goto("/api/docs/")

    expect(page.locator("#id_username")).to_be_visible()
    assert "/admin/login/" in page.url
    assert aborted == []


def csp_refusals(complaints: list[str]) -> list[str]:
    return [text for text in complaints if "Content Security Policy" in text]


def test_the_policy_refuses_nothing_on_the_hub_s_pages(browser, systems, firm, admin_user):
    """Each page the browser tests use, opened for what Chromium says about it."""
    context = browser.new_context(viewport=VIEWPORT, base_url=systems.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    complaints = []
    page.on("console", lambda message: complaints.append(f"{page.url}: {message.text}"))
    log_in(page, "admin")
    contact, matter = Contact.objects.first(), Matter.objects.first()
    pages = [
        "/admin/",
        "/admin/sync/link/health/",
        "/admin/sync/pmconnection/",
        "/admin/contacts/contact/",
        f"/admin/contacts/contact/{contact.pk}/change/",
        "/admin/matters/matter/",
        f"/admin/matters/matter/{matter.pk}/change/",
        "/admin/timekeeping/timeentry/",
        "/admin/timekeeping/billingbatch/",
        "/sandbox/admin/sandbox_pm/participant/",
        "/sandbox/admin/sandbox_la/contact/",
        "/api/docs/",
    ]

    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")

    context.close()
    assert csp_refusals(complaints) == []
