"""Helpers shared by the LA emulator's tests: the API as a client sees it, and records
made through the services. Holds no tests of its own (see the test_la_*.py modules).
"""

import datetime
import json
from decimal import Decimal

from django.conf import settings
from django.test import Client

from sandbox.la import services
from sandbox.la.models import Contact, FeeEarner, File, TimeEntry

URL = "/sandbox/la/api/v1/"


class LA:
    """The LA API over HTTP (Django's test client), JSON in and out, with the API token."""

    def __init__(self, authorization: str | None = None):
        if authorization is None:
            authorization = f"Bearer {settings.SANDBOX_LA_API_TOKEN}"
        headers = {"Authorization": authorization} if authorization else {}
        self.http = Client(headers=headers)

    def get(self, path: str, **params):
        return self.http.get(URL + path, params)

    def post(self, path: str, body=None, headers: dict | None = None):
        return self.http.post(
            URL + path,
            json.dumps({} if body is None else body),
            content_type="application/json",
            headers=headers or {},
        )

    def patch(self, path: str, body: dict):
        return self.http.patch(URL + path, json.dumps(body), content_type="application/json")

    def delete(self, path: str):
        return self.http.delete(URL + path)


def make_contact(**fields) -> Contact:
    data = {"first_name": "Jane", "last_name": "Smith", **fields}
    return services.contact_create(data=data)


def make_fee_earner(name: str = "Ann Lawyer", email: str = "ann@firm.example") -> FeeEarner:
    return services.fee_earner_create(name=name, email=email)


def make_file(contact: Contact | None = None, **fields) -> File:
    data = {"contact": contact or make_contact(), "description": "Purchase of 222 Beach Rd"}
    return services.file_create(data={**data, **fields})


def make_time_entry(file: File, fee_earner: FeeEarner, **fields) -> TimeEntry:
    data = {
        "file": file,
        "fee_earner": fee_earner,
        "date": datetime.date(2025, 3, 3),
        "description": "Drafting",
        "hours": Decimal("1.50"),
        "rate": Decimal("200.00"),
        "billing_behaviour": TimeEntry.BillingBehaviour.BILL,
        **fields,
    }
    return services.time_entry_create(data=data)
