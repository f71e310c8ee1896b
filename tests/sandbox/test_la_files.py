import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sandbox.la import services
from sandbox.la.models import File

from .test_la_support import LA, make_contact, make_fee_earner, make_file

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def la():
    return LA()


def per_client(la):
    response = la.patch("settings", {"file_numbering": "per_client"})
    assert response.status_code == 200


def test_it_numbers_files_firm_wide_with_six_digits_by_default(la):
    first, second = make_contact(), make_contact()

    numbers = [
        la.post("files", {"contact": contact.pk, "description": "Sale"}).json()["file_number"]
        for contact in [first, second, first]
    ]

    assert numbers == ["000001", "000002", "000003"]


def test_it_skips_firm_wide_numbers_already_taken_by_hand(la):
    contact = make_contact()
    la.post("files", {"contact": contact.pk, "description": "Hand", "file_number": "000001"})

    response = la.post("files", {"contact": contact.pk, "description": "Auto"})

    assert response.json()["file_number"] == "000002"


def test_it_numbers_files_per_client_after_the_setting_changes(la):
    client_25 = make_contact(contact_number="25")
    client_26 = make_contact(contact_number="26")
    before = la.post("files", {"contact": client_25.pk, "description": "Before"}).json()
    per_client(la)

    numbers = [
        la.post("files", {"contact": contact.pk, "description": "Sale"}).json()["file_number"]
        for contact in [client_25, client_25, client_26]
    ]

    assert before["file_number"] == "000001"
    assert numbers == ["25-001", "25-002", "26-001"]
    assert la.get("settings").json()["file_numbering"] == "per_client"


def test_it_skips_per_client_numbers_already_taken_by_hand(la):
    per_client(la)
    contact = make_contact(contact_number="25")
    make_file(contact, file_number="25-001")

    response = la.post("files", {"contact": contact.pk, "description": "Auto"})

    assert response.json()["file_number"] == "25-002"


def test_it_answers_409_naming_the_file_that_holds_the_file_number(la):
    holder = make_file(file_number="AB8383/GD", description="Purchase of 222 Beach Rd")

    response = la.post(
        "files", {"contact": holder.contact_id, "description": "Other", "file_number": "AB8383/GD"}
    )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_assigned",
        "message": "file number AB8383/GD is already assigned to file AB8383/GD "
        "(Purchase of 222 Beach Rd)",
        "field": "file_number",
        "value": "AB8383/GD",
        "conflict": {
            "id": holder.pk,
            "file_number": "AB8383/GD",
            "description": "Purchase of 222 Beach Rd",
        },
    }
    assert File.objects.count() == 1


def test_it_answers_409_naming_the_file_that_holds_the_pm_matter_id(la):
    holder = make_file(pm_matter_id="113")

    response = la.post(
        "files", {"contact": holder.contact_id, "description": "Again", "pm_matter_id": 113}
    )

    error = response.json()["error"]
    assert response.status_code == 409
    assert error["field"] == "pm_matter_id"
    assert error["value"] == "113"
    assert error["conflict"]["id"] == holder.pk
    assert error["conflict"]["file_number"] == holder.file_number


@pytest.mark.parametrize("body", [{}, {"contact": 999}])
def test_it_refuses_a_file_without_an_existing_contact(la, body):
    response = la.post("files", {"description": "Orphan", **body})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "contact"
    assert not File.objects.exists()


def test_it_names_the_missing_contact_in_the_message(la):
    response = la.post("files", {"description": "Orphan", "contact": 999})

    assert response.json()["error"]["code"] == "does_not_exist"
    assert response.json()["error"]["message"] == "contact: no contact has id 999"


def test_it_makes_the_assigned_fee_earner_responsible_and_lead_on_creation(la):
    contact, ann = make_contact(), make_fee_earner()

    file = la.post(
        "files", {"contact": contact.pk, "description": "Sale", "assigned_fee_earner": ann.pk}
    ).json()

    assert file["assigned_fee_earner"] == ann.pk
    assert file["responsible_fee_earner"] == ann.pk
    assert file["lead_fee_earner"] == ann.pk
    assert file["status"] == "open"


def test_it_changes_a_file_and_leaves_responsible_as_it_was(la):
    ann, bob = make_fee_earner(), make_fee_earner("Bob", "bob@firm.example")
    file = make_file(assigned_fee_earner=ann)

    response = la.patch(f"files/{file.pk}", {"assigned_fee_earner": bob.pk, "description": "New"})

    assert response.status_code == 200
    assert response.json()["assigned_fee_earner"] == bob.pk
    assert response.json()["responsible_fee_earner"] == ann.pk
    assert response.json()["description"] == "New"


def test_it_refuses_a_changed_file_number_another_file_holds(la):
    make_file(file_number="F-1")
    file = make_file()

    response = la.patch(f"files/{file.pk}", {"file_number": "F-1"})

    assert response.status_code == 409
    assert response.json()["error"]["field"] == "file_number"


def test_it_filters_files_by_pm_matter_id_file_number_and_contact(la):
    wanted = make_file(pm_matter_id="113", file_number="W-1")
    make_file(pm_matter_id="114")

    for params in [{"pm_matter_id": "113"}, {"file_number": "W-1"}, {"contact": wanted.contact_id}]:
        results = la.get("files", **params).json()["results"]
        assert [result["id"] for result in results] == [wanted.pk]


def test_it_answers_400_for_a_contact_filter_that_is_not_an_id(la):
    response = la.get("files", contact="abc")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "contact"


def test_it_refuses_an_unknown_file_numbering(la):
    response = la.patch("settings", {"file_numbering": "by_colour"})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file_numbering"


def test_the_file_list_costs_the_same_queries_for_3_and_30_files(la):
    contact, ann = make_contact(), make_fee_earner()

    def queries_for(count: int) -> int:
        File.objects.all().delete()
        File.objects.bulk_create(
            File(contact=contact, file_number=str(n), description="x", assigned_fee_earner=ann)
            for n in range(count)
        )
        with CaptureQueriesContext(connections["sandbox"]) as captured:
            assert len(la.get("files").json()["results"]) == count
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_fee_earner_emails_are_unique_ignoring_case(la):
    holder = make_fee_earner("Ann Lawyer", "ann@firm.example")

    response = la.post("fee-earners", {"name": "Ann Again", "email": "ANN@firm.example"})

    assert response.status_code == 409
    assert response.json()["error"]["field"] == "email"
    assert response.json()["error"]["conflict"]["id"] == holder.pk


def test_fee_earners_are_found_by_email_ignoring_case(la):
    ann = la.post("fee-earners", {"name": "Ann", "email": "Ann@Firm.example"}).json()
    la.post("fee-earners", {"name": "Bob", "email": "bob@firm.example"})

    results = la.get("fee-earners", email="ann@firm.EXAMPLE").json()["results"]

    assert [result["id"] for result in results] == [ann["id"]]
    assert la.get(f"fee-earners/{ann['id']}").json()["email"] == "Ann@Firm.example"


def test_the_unique_constraint_still_names_the_holder_of_a_raced_file_number(la, monkeypatch):
    holder = make_file(file_number="F-1")
    # As if the holder committed between this request's check and its insert.
    monkeypatch.setattr(services, "file_check", lambda **kwargs: None)

    response = la.post(
        "files", {"contact": holder.contact_id, "description": "Race", "file_number": "F-1"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["conflict"]["id"] == holder.pk


def test_an_auto_file_number_taken_by_hand_in_a_race_is_replaced(la, monkeypatch):
    holder = make_file(file_number="000001")
    # As if "000001" was committed by hand just after LA looked for a free number.
    monkeypatch.setattr(services, "_file_number_taken", lambda number: False)

    response = la.post("files", {"contact": holder.contact_id, "description": "Race"})

    assert response.status_code == 201
    assert response.json()["file_number"] == "000002"


def test_a_blank_file_number_in_a_change_keeps_the_number(la):
    file = make_file(file_number="F-9")

    response = la.patch(f"files/{file.pk}", {"file_number": "", "description": "Renamed"})

    assert response.status_code == 200
    assert response.json()["file_number"] == "F-9"
    assert response.json()["description"] == "Renamed"


def test_a_null_open_date_means_today_on_creation_and_keep_it_on_a_change(la):
    contact = make_contact()

    created = la.post("files", {"contact": contact.pk, "description": "Sale", "open_date": None})
    changed = la.patch(f"files/{created.json()['id']}", {"open_date": None})

    assert created.status_code == 201
    assert created.json()["open_date"] == timezone.localdate().isoformat()
    assert changed.json()["open_date"] == created.json()["open_date"]
