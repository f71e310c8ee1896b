"""LA's URL map, mounted at /sandbox/la/. Every API view meets the faults configured for
LA (sandbox/faults.py) and honours `Idempotency-Key` on POST (idempotency.py); faults wrap
outside idempotency so a dropped response can be recovered by retrying with the same key.
"""

from django.urls import path

from sandbox.faults import with_faults

from . import api
from .idempotency import idempotent


def endpoint(view_class):
    return with_faults("la")(idempotent(view_class.as_view()))


app_name = "sandbox_la"

urlpatterns = [
    path("api/v1/contacts", endpoint(api.ContactCollection), name="contacts"),
    path("api/v1/contacts/<int:pk>", endpoint(api.ContactDetail), name="contact"),
    path("api/v1/files", endpoint(api.FileCollection), name="files"),
    path("api/v1/files/<int:pk>", endpoint(api.FileDetail), name="file"),
    path("api/v1/files/<int:pk>/bill", endpoint(api.FileBill), name="file-bill"),
    path(
        "api/v1/files/<int:pk>/transactions",
        endpoint(api.FileTransactions),
        name="file-transactions",
    ),
    path("api/v1/files/<int:pk>/balance", endpoint(api.FileBalance), name="file-balance"),
    path("api/v1/balances", endpoint(api.BalanceCollection), name="balances"),
    path("api/v1/fee-earners", endpoint(api.FeeEarnerCollection), name="fee-earners"),
    path("api/v1/fee-earners/<int:pk>", endpoint(api.FeeEarnerDetail), name="fee-earner"),
    path("api/v1/time-entries", endpoint(api.TimeEntryCollection), name="time-entries"),
    path("api/v1/time-entries/batch", endpoint(api.TimeEntryBatch), name="time-entries-batch"),
    path("api/v1/time-entries/<int:pk>", endpoint(api.TimeEntryDetail), name="time-entry"),
    path("api/v1/invoices", endpoint(api.InvoiceCollection), name="invoices"),
    path("api/v1/invoices/<int:pk>", endpoint(api.InvoiceDetail), name="invoice"),
    path("api/v1/settings", endpoint(api.SettingsDetail), name="settings"),
    path("api/v1/webhooks", endpoint(api.WebhookCollection), name="webhooks"),
    path("api/v1/webhooks/<int:pk>", endpoint(api.WebhookDetail), name="webhook"),
]
