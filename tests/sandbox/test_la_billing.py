from decimal import Decimal

import pytest

from sandbox.la.models import LedgerTransaction, TimeEntry

from .test_la_support import LA, make_fee_earner, make_file, make_time_entry

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

HIDE = TimeEntry.BillingBehaviour.HIDE
NO_CHARGE = TimeEntry.BillingBehaviour.NO_CHARGE


@pytest.fixture
def la():
    return LA()


@pytest.fixture
def file():
    return make_file()


@pytest.fixture
def ann():
    return make_fee_earner()


def record(la, file, kind: str, amount: str, **fields):
    return la.post(f"files/{file.pk}/transactions", {"kind": kind, "amount": amount, **fields})


def balance(la, file) -> dict:
    response = la.get(f"files/{file.pk}/balance")
    assert response.status_code == 200
    body = response.json()
    return {name: value for name, value in body.items() if name not in ("as_of", "changed_at")}


def test_a_new_file_has_zero_balances_as_decimal_strings(la, file):
    response = la.get(f"files/{file.pk}/balance")

    assert response.json() == {
        "file": file.pk,
        "trust": "0.00",
        "wip_fees": "0.00",
        "wip_disbursements": "0.00",
        "accounts_receivable": "0.00",
        "unallocated_credit": "0.00",
        "currency": "USD",
        "as_of": response.json()["as_of"],
        "changed_at": response.json()["changed_at"],
    }
    assert response.json()["as_of"].endswith("Z")
    assert response.json()["changed_at"] <= response.json()["as_of"]


def test_billing_makes_an_invoice_of_unbilled_time_and_disbursements(la, file, ann):
    billed = make_time_entry(file, ann, hours=Decimal("1.50"), rate=Decimal("200.00"))
    hidden = make_time_entry(file, ann, hours=Decimal("1.00"), billing_behaviour=HIDE)
    free = make_time_entry(file, ann, hours=Decimal("0.50"), billing_behaviour=NO_CHARGE)
    disbursement = record(la, file, "disbursement", "45.50", description="Search fee").json()

    response = la.post(f"files/{file.pk}/bill", {"issued_on": "2025-03-31"})

    invoice = response.json()
    assert response.status_code == 201
    assert invoice["number"] == "INV-000001"
    assert invoice["issued_on"] == "2025-03-31"
    assert invoice["total"] == "345.50"
    assert invoice["currency"] == "USD"
    assert [
        (line["time_entry"], line["disbursement"], line["amount"]) for line in invoice["lines"]
    ] == [
        (billed.pk, None, "300.00"),
        (hidden.pk, None, "0.00"),
        (free.pk, None, "0.00"),
        (None, disbursement["id"], "45.50"),
    ]
    assert set(TimeEntry.objects.values_list("status", flat=True)) == {"billed"}
    assert la.get(f"invoices/{invoice['id']}").json() == invoice
    assert la.get("invoices", file=file.pk).json()["results"] == [invoice]


def test_billing_with_nothing_unbilled_answers_422(la, file, ann):
    make_time_entry(file, ann)
    la.post(f"files/{file.pk}/bill")

    response = la.post(f"files/{file.pk}/bill")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "nothing_to_bill"


def test_the_balance_follows_billing_payments_credit_and_trust_to_the_cent(la, file, ann):
    make_time_entry(file, ann, hours=Decimal("1.50"), rate=Decimal("200.00"))
    make_time_entry(file, ann, hours=Decimal("1.00"), billing_behaviour=HIDE)
    record(la, file, "disbursement", "45.50")
    before_bill = balance(la, file)

    la.post(f"files/{file.pk}/bill")
    after_bill = balance(la, file)
    first = record(la, file, "payment", "100.00").json()
    second = record(la, file, "payment", "300.00").json()
    record(la, file, "credit", "25.00")
    record(la, file, "trust_deposit", "1000.00")
    record(la, file, "trust_withdrawal", "250.25")
    record(la, file, "disbursement", "12.34")
    make_time_entry(file, ann, hours=Decimal("0.25"), rate=Decimal("310.00"))

    assert before_bill == {
        "file": file.pk,
        "trust": "0.00",
        "wip_fees": "300.00",
        "wip_disbursements": "45.50",
        "accounts_receivable": "0.00",
        "unallocated_credit": "0.00",
        "currency": "USD",
    }
    assert after_bill == {
        "file": file.pk,
        "trust": "0.00",
        "wip_fees": "0.00",
        "wip_disbursements": "0.00",
        "accounts_receivable": "345.50",
        "unallocated_credit": "0.00",
        "currency": "USD",
    }
    assert (first["applied_amount"], first["unallocated_amount"]) == ("100.00", "0.00")
    assert (second["applied_amount"], second["unallocated_amount"]) == ("245.50", "54.50")
    assert balance(la, file) == {
        "file": file.pk,
        "trust": "749.75",
        "wip_fees": "77.50",
        "wip_disbursements": "12.34",
        "accounts_receivable": "0.00",
        "unallocated_credit": "79.50",
        "currency": "USD",
    }


def test_a_trust_withdrawal_cannot_exceed_the_trust_balance(la, file):
    record(la, file, "trust_deposit", "100.00")

    response = record(la, file, "trust_withdrawal", "100.01")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_trust_funds"
    assert response.json()["error"]["field"] == "amount"
    assert response.json()["error"]["trust"] == "100.00"
    assert balance(la, file)["trust"] == "100.00"


def test_a_payment_with_nothing_receivable_is_all_unallocated_credit(la, file):
    payment = record(la, file, "payment", "80.00").json()

    assert payment["applied_amount"] == "0.00"
    assert balance(la, file)["unallocated_credit"] == "80.00"
    assert balance(la, file)["accounts_receivable"] == "0.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "payment", "amount": "0.00"}, "amount"),
        ({"kind": "payment", "amount": "-5.00"}, "amount"),
        ({"kind": "payment", "amount": "1.005"}, "amount"),
        ({"kind": "refund", "amount": "5.00"}, "kind"),
    ],
)
def test_it_refuses_a_transaction_with_a_bad_kind_or_amount(la, file, body, field):
    response = la.post(f"files/{file.pk}/transactions", body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert not LedgerTransaction.objects.exists()


def test_it_lists_a_files_transactions_in_order(la, file):
    record(la, file, "trust_deposit", "10.00", reference="DEP-1")
    record(la, file, "disbursement", "2.50", description="Courier")
    make_file().transactions.create(kind="credit", amount=Decimal("1.00"))

    results = la.get(f"files/{file.pk}/transactions").json()["results"]

    assert [(r["kind"], r["amount"]) for r in results] == [
        ("trust_deposit", "10.00"),
        ("disbursement", "2.50"),
    ]
    assert results[0]["reference"] == "DEP-1"


# Many balances: GET /balances --------------------------------------------------------------


def changed_at(la, file) -> str:
    return la.get(f"files/{file.pk}/balance").json()["changed_at"]


def test_many_balances_come_a_page_at_a_time_for_the_files_asked(la, ann):
    files = [make_file() for _ in range(3)]
    make_time_entry(files[1], ann, hours=Decimal("2.00"), rate=Decimal("100.00"))

    response = la.get("balances", file__in=f"{files[2].pk},{files[1].pk},999999")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert [(item["file"], item["wip_fees"]) for item in body["results"]] == [
        (files[1].pk, "200.00"),
        (files[2].pk, "0.00"),
    ]
    assert body["results"][0] == la.get(f"files/{files[1].pk}/balance").json() | {
        "as_of": body["results"][0]["as_of"]
    }


def test_changed_since_answers_only_the_files_whose_figures_moved(la, ann):
    quiet, billed, paid, edited = (make_file() for _ in range(4))
    make_time_entry(billed, ann)
    entry = make_time_entry(edited, ann)
    since = max(changed_at(la, file) for file in (quiet, billed, paid, edited))

    la.post(f"files/{billed.pk}/bill")
    record(la, paid, "payment", "10.00")
    assert la.patch(f"time-entries/{entry.pk}", {"hours": "3.00"}).status_code == 200

    changed = la.get("balances", changed_since=since).json()["results"]
    assert {item["file"] for item in changed if item["changed_at"] > since} == {
        billed.pk,
        paid.pk,
        edited.pk,
    }


def test_deleting_a_time_entry_changes_its_files_balance(la, file, ann):
    entry = make_time_entry(file, ann)
    before = changed_at(la, file)

    assert la.delete(f"time-entries/{entry.pk}").status_code == 204

    after = la.get("balances", changed_since=before).json()["results"]
    assert [(item["file"], item["wip_fees"]) for item in after] == [(file.pk, "0.00")]
    assert after[0]["changed_at"] > before


@pytest.mark.parametrize(
    ("params", "field"),
    [({"file__in": "1,two"}, "file__in"), ({"changed_since": "yesterday"}, "changed_since")],
)
def test_a_bad_balances_filter_answers_400_naming_it(la, params, field):
    response = la.get("balances", **params)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
