"""The sandbox's own admin site, at /sandbox/admin/ (only where the sandbox runs).

The emulators stand in for the firm's real Practice Management and Legal Accounting, so
their screens are kept apart from the hub's admin: a person playing "PM" or "LA" goes
to /sandbox/admin/, and the hub's own admin shows only the hub. Both sites sign in with
the same accounts.
"""

from django.contrib.admin import AdminSite
from django.urls import reverse


class SandboxAdminSite(AdminSite):
    site_header = "Sandbox: the emulated Practice Management and Legal Accounting"
    site_title = "Sandbox PM and LA"
    index_title = "Emulated systems"

    def each_context(self, request):
        # The hub's banners (its PM connection) are not the emulated systems' business.
        return {
            **super().each_context(request),
            "is_sandbox_site": True,
            "hub_admin_url": reverse("admin:index"),
        }


sandbox_admin_site = SandboxAdminSite(name="sandbox_admin")
