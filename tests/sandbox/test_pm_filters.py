"""The PM emulator's filters: Actionstep's operators and its strict UTC timestamp format."""

import datetime

import pytest
from django.utils import timezone

from sandbox.pm.models import Participant

from .test_pm_support import PM, errors_of, ids_of, make_action, make_participant

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def pm():
    return PM()


@pytest.fixture
def people():
    """Three participants, in id order."""
    return [
        make_participant(first_name="Anna", last_name="Smith", email="anna@example.com"),
        make_participant(first_name="Ben", last_name="Smithers", email="ben@example.com"),
        make_participant(first_name="Cara", last_name="Jones", email="cara@example.com"),
    ]


def _ids(pm, **params) -> list[int]:
    return ids_of(pm.get("participants", params), "participants")


# Timestamps --------------------------------------------------------------------------

CURSOR = datetime.datetime(2025, 1, 31, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def old_and_recent():
    old, recent = make_participant(last_name="Old"), make_participant(last_name="Recent")
    Participant.objects.filter(pk=old.pk).update(modified_at=CURSOR - datetime.timedelta(hours=1))
    Participant.objects.filter(pk=recent.pk).update(
        modified_at=CURSOR + datetime.timedelta(seconds=1)
    )
    return old, recent


@pytest.mark.parametrize("value", ["2025-01-31T09:00:00", "2025-01-31 09:00:00"])
def test_it_reads_a_timestamp_filter_without_an_offset_as_utc(pm, old_and_recent, value):
    _, recent = old_and_recent

    assert _ids(pm, modifiedTimestamp_gt=value, lastName_in="Old,Recent") == [recent.pk]


def test_it_reads_a_date_only_timestamp_filter_as_midnight_utc(pm, old_and_recent):
    old, recent = old_and_recent

    assert _ids(pm, modifiedTimestamp_gteq="2025-01-31", lastName_in="Old,Recent") == [
        old.pk,
        recent.pk,
    ]
    assert _ids(pm, modifiedTimestamp_lt="2025-01-31", lastName_in="Old,Recent") == []


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-31T09:00:00Z",
        "2025-01-31T09:00:00+00:00",
        "2025-01-31T09:00:00.000",
        "2025-01-31T09:00",
        "31/01/2025",
        "yesterday",
        "2025-02-30T09:00:00",
    ],
)
def test_it_refuses_a_timestamp_filter_in_any_other_format(pm, value):
    response = pm.get("participants", {"modifiedTimestamp_gt": value})

    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["source"] == {"parameter": "modifiedTimestamp_gt"}


def test_an_unencoded_plus_offset_is_refused_too(pm):
    response = pm.http.get(
        "/sandbox/pm/api/rest/participants?modifiedTimestamp_gt=2025-01-31T09:00:00+00:00"
    )

    assert response.status_code == 400


def test_an_actions_date_only_created_timestamp_filters_by_date(pm):
    action = make_action()
    day = timezone.localdate(action.created_at)

    assert ids_of(pm.get("actions", {"createdTimestamp": day.isoformat()}), "actions") == [
        action.pk
    ]
    after = (day + datetime.timedelta(days=1)).isoformat()
    assert pm.get("actions", {"createdTimestamp_gteq": after}).status_code == 204


# Operators ---------------------------------------------------------------------------


def test_eq_is_the_same_as_no_suffix(pm, people):
    anna = people[0]

    assert _ids(pm, id=anna.pk) == _ids(pm, id_eq=anna.pk) == [anna.pk]


def test_nteq_excludes_the_value(pm, people):
    anna, ben, cara = people

    assert _ids(pm, lastName_nteq="Smith", id_gteq=anna.pk) == [ben.pk, cara.pk]


def test_gt_gteq_lt_lteq_compare_numbers(pm, people):
    anna, ben, cara = people

    assert _ids(pm, id_gt=anna.pk) == [ben.pk, cara.pk]
    assert _ids(pm, id_gteq=ben.pk, id_lteq=ben.pk) == [ben.pk]
    assert _ids(pm, id_lt=ben.pk, id_gteq=anna.pk) == [anna.pk]


def test_in_and_ntin_take_comma_separated_lists(pm, people):
    anna, ben, cara = people

    assert _ids(pm, id_in=f"{anna.pk},{cara.pk}") == [anna.pk, cara.pk]
    assert _ids(pm, id_ntin=f"{anna.pk},{cara.pk}", id_gteq=anna.pk) == [ben.pk]
    assert _ids(pm, email_in="ANNA@example.com,ben@example.com") == [anna.pk, ben.pk]


def test_like_is_a_case_sensitive_contains(pm, people):
    anna, ben, _ = people

    assert _ids(pm, lastName_like="mith") == [anna.pk, ben.pk]
    assert _ids(pm, lastName_like="SMITH") == []


def test_ilike_is_a_case_insensitive_contains(pm, people):
    anna, ben, _ = people

    assert _ids(pm, lastName_ilike="SMITH") == [anna.pk, ben.pk]


def test_ntlike_and_ntilike_exclude_what_matches(pm, people):
    anna, ben, cara = people

    assert _ids(pm, lastName_ntlike="mith", id_gteq=anna.pk) == [cara.pk]
    assert _ids(pm, lastName_ntilike="SMITH", id_gteq=anna.pk) == [cara.pk]
    assert _ids(pm, lastName_ntlike="SMITH", id_gteq=anna.pk) == [anna.pk, ben.pk, cara.pk]


@pytest.mark.parametrize("wildcard", ["*", "%"])
def test_a_wildcard_makes_like_match_the_whole_value(pm, people, wildcard):
    anna, ben, _ = people

    assert _ids(pm, lastName_ilike=f"smith{wildcard}") == [anna.pk, ben.pk]
    assert _ids(pm, lastName_ilike=f"{wildcard}ers") == [ben.pk]
    assert _ids(pm, lastName_like=f"Smith{wildcard}s") == [ben.pk]
    assert _ids(pm, lastName_like=f"mith{wildcard}") == []


@pytest.mark.parametrize(
    "parameter",
    [
        "modifiedTimestamp_gte",  # not an Actionstep operator
        "modifiedTimestamp_lte",
        "lastName_contains",
        "refrence",
        "action[actionType]",
    ],
)
def test_it_refuses_an_unknown_parameter_or_operator(pm, parameter):
    response = pm.get("participants", {parameter: "2025-01-31T09:00:00"})

    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["source"] == {"parameter": parameter}


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("email_gt", "a"), ("id_like", "1"), ("isCompany_lt", "T"), ("isCompany", "Y"), ("id", "x")],
)
def test_it_refuses_an_operator_or_value_the_property_does_not_take(pm, parameter, value):
    response = pm.get("participants", {parameter: value})

    assert response.status_code == 400
    assert errors_of(response)[0]["source"] == {"parameter": parameter}


def test_it_filters_participants_by_email_and_import_external_reference(pm):
    wanted = make_participant(email="Jane@Example.com", import_external_reference="C-42")
    make_participant(email="other@example.com", import_external_reference="C-43")

    assert _ids(pm, email="jane@example.com") == [wanted.pk]
    assert _ids(pm, importExternalReference="C-42") == [wanted.pk]


def test_an_empty_value_matches_an_empty_text_property(pm):
    blank = make_participant(import_external_reference="")
    make_participant(import_external_reference="C-1")

    assert blank.pk in _ids(pm, importExternalReference="")
    assert (
        len(_ids(pm, importExternalReference=""))
        == Participant.objects.filter(import_external_reference="").count()
    )
