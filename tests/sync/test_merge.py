"""The field-by-field three-way merge (ARCHITECTURE §4, rules 3 and 4)."""

from sync.fields import CONTACT_FIELDS, HUB, LA, MATTER_FIELDS, PM
from sync.merge import Conflict, merge


def contact_field(name: str):
    return next(f for f in CONTACT_FIELDS if f.name == name)


def matter_field(name: str):
    return next(f for f in MATTER_FIELDS if f.name == name)


FIRST_NAME = (contact_field("first_name"),)
REFERENCE = (contact_field("reference"),)


def merge_one(fields, *, hub, pm, la, pm_base=None, la_base=None, same_base=None):
    """Merge with both snapshots equal to `same_base` unless given apart."""
    return merge(
        fields,
        hub=hub,
        pm=pm,
        la=la,
        pm_base=pm_base if pm_base is not None else same_base,
        la_base=la_base if la_base is not None else same_base,
    )


class TestOneSideChanged:
    def test_nothing_changed_keeps_the_hub_value(self):
        base = {"first_name": "Jane"}

        result = merge_one(FIRST_NAME, hub=base, pm=base, la=base, same_base=base)

        assert result.values == {"first_name": "Jane"}
        assert result.changed_on == {}
        assert result.conflicts == []

    def test_a_change_in_pm_wins(self):
        base = {"first_name": "Jane"}

        result = merge_one(
            FIRST_NAME, hub=base, pm={"first_name": "Janet"}, la=base, same_base=base
        )

        assert result.values == {"first_name": "Janet"}
        assert result.changed_on == {"first_name": [PM]}
        assert result.conflicts == []

    def test_a_change_in_la_wins(self):
        base = {"first_name": "Jane"}

        result = merge_one(
            FIRST_NAME, hub=base, pm=base, la={"first_name": "Janine"}, same_base=base
        )

        assert result.values == {"first_name": "Janine"}
        assert result.changed_on == {"first_name": [LA]}

    def test_a_change_in_the_hub_wins(self):
        base = {"first_name": "Jane"}

        result = merge_one(FIRST_NAME, hub={"first_name": "Jo"}, pm=base, la=base, same_base=base)

        assert result.values == {"first_name": "Jo"}
        assert result.changed_on == {"first_name": [HUB]}
        assert result.conflicts == []

    def test_the_same_change_on_both_sides_is_no_conflict(self):
        base = {"first_name": "Jane"}
        changed = {"first_name": "Janet"}

        result = merge_one(FIRST_NAME, hub=base, pm=changed, la=changed, same_base=base)

        assert result.values == {"first_name": "Janet"}
        assert result.changed_on == {"first_name": [LA, PM]}
        assert result.conflicts == []


class TestOwnerRule:
    def test_pm_owns_names_when_both_sides_changed_them_differently(self):
        base = {"first_name": "Jane"}

        result = merge_one(
            FIRST_NAME,
            hub=base,
            pm={"first_name": "Janet"},
            la={"first_name": "Janine"},
            same_base=base,
        )

        assert result.values == {"first_name": "Janet"}
        assert result.conflicts == [
            Conflict(field="first_name", chosen=PM, values={PM: "Janet", LA: "Janine"})
        ]

    def test_la_owns_the_contact_reference(self):
        base = {"reference": "25"}

        result = merge_one(
            REFERENCE, hub=base, pm={"reference": "26"}, la={"reference": "V~1"}, same_base=base
        )

        assert result.values == {"reference": "V~1"}
        assert [(c.field, c.chosen) for c in result.conflicts] == [("reference", LA)]

    def test_la_owns_the_file_reference(self):
        fields = (matter_field("file_reference"),)
        base = {"file_reference": "000001"}

        result = merge_one(
            fields,
            hub=base,
            pm={"file_reference": "AB/1"},
            la={"file_reference": "000002"},
            same_base=base,
        )

        assert result.values == {"file_reference": "000002"}
        assert result.conflicts[0].chosen == LA

    def test_the_hub_beats_both_systems(self):
        base = {"reference": "25"}

        result = merge_one(
            REFERENCE,
            hub={"reference": "27"},
            pm={"reference": "26"},
            la={"reference": "V~1"},
            same_base=base,
        )

        assert result.values == {"reference": "27"}
        conflict = result.conflicts[0]
        assert conflict.chosen == HUB
        assert conflict.values == {HUB: "27", PM: "26", LA: "V~1"}

    def test_every_field_is_merged_on_its_own(self):
        fields = (contact_field("first_name"), contact_field("email"))
        base = {"first_name": "Jane", "email": "jane@example.com"}

        result = merge_one(
            fields,
            hub=base,
            pm={**base, "first_name": "Janet"},
            la={**base, "email": "j@example.com"},
            same_base=base,
        )

        assert result.values == {"first_name": "Janet", "email": "j@example.com"}
        assert result.conflicts == []


class TestCreateOnlyFields:
    def test_a_later_change_to_the_open_date_in_la_is_ignored(self):
        fields = (matter_field("open_date"),)
        base = {"open_date": "2026-01-05"}

        result = merge_one(fields, hub=base, pm={}, la={"open_date": "2026-02-01"}, same_base=base)

        assert result.values == {"open_date": "2026-01-05"}
        assert result.changed_on == {}
        assert result.conflicts == []

    def test_a_later_change_to_the_client_in_pm_is_ignored(self):
        fields = (matter_field("client_id"),)
        base = {"client_id": 1}

        result = merge_one(fields, hub=base, pm={"client_id": 2}, la=base, same_base=base)

        assert result.values == {"client_id": 1}
        assert result.conflicts == []

    def test_a_stale_create_only_snapshot_does_not_make_the_hub_overrule_the_other_side(self):
        # The hub moved the client from 1 to 2 and LA took it; PM can't, so its snapshot
        # keeps 1. Now LA changes it to 3: that is a one-side change and must win.
        fields = (matter_field("client_id"),)

        result = merge_one(
            fields,
            hub={"client_id": 2},
            pm={"client_id": 1},
            la={"client_id": 3},
            pm_base={"client_id": 1},
            la_base={"client_id": 2},
        )

        assert result.values == {"client_id": 3}
        assert result.changed_on == {"client_id": [LA]}
        assert result.conflicts == []


class TestMissingSnapshotsAndFields:
    def test_a_side_with_no_snapshot_counts_as_changed_where_it_differs(self):
        base = {"first_name": "Jane"}

        result = merge(
            FIRST_NAME,
            hub=base,
            pm={"first_name": "Janet"},
            la=base,
            pm_base=None,
            la_base=base,
        )

        assert result.values == {"first_name": "Janet"}
        assert result.conflicts == []

    def test_a_side_with_no_snapshot_that_agrees_with_the_hub_is_no_conflict(self):
        base = {"first_name": "Jane"}

        result = merge(FIRST_NAME, hub=base, pm=base, la=base, pm_base=None, la_base=base)

        assert result.values == {"first_name": "Jane"}
        assert result.conflicts == []

    def test_a_side_with_no_snapshot_holding_the_hubs_value_caused_no_conflict(self):
        """Found by the soak: an LA record made by a first sync that did not finish has
        no snapshot; PM's edit of a field LA never touched is no conflict."""
        result = merge(
            FIRST_NAME,
            hub={"first_name": "Jane"},
            pm={"first_name": "Janet"},
            la={"first_name": "Jane"},
            pm_base={"first_name": "Jane"},
            la_base=None,
        )

        assert result.values == {"first_name": "Janet"}
        assert result.changed_on == {"first_name": [PM]}
        assert result.conflicts == []

    def test_with_no_snapshot_at_all_the_hub_wins_a_disagreement_and_it_is_recorded(self):
        result = merge(
            FIRST_NAME,
            hub={"first_name": "Jane"},
            pm={"first_name": "Janet"},
            la=None,
            pm_base=None,
            la_base=None,
        )

        assert result.values == {"first_name": "Jane"}
        assert result.conflicts[0].values == {HUB: "Jane", PM: "Janet"}

    def test_a_system_with_no_record_yet_proposes_nothing(self):
        base = {"first_name": "Jane"}

        result = merge(FIRST_NAME, hub=base, pm=None, la=base, pm_base=base, la_base=base)

        assert result.values == {"first_name": "Jane"}
        assert result.changed_on == {}

    def test_county_is_taken_from_pm_only(self):
        fields = (contact_field("physical_county"),)
        base = {"physical_county": "Waitemata"}

        result = merge(
            fields,
            hub=base,
            pm={"physical_county": "Rodney"},
            la={"physical_county": "Franklin"},
            pm_base=base,
            la_base={},
        )

        assert result.values == {"physical_county": "Rodney"}
        assert result.changed_on == {"physical_county": [PM]}
        assert result.conflicts == []

    def test_a_hub_change_to_a_pm_only_field_is_measured_against_the_pm_snapshot(self):
        fields = (contact_field("physical_county"),)

        result = merge(
            fields,
            hub={"physical_county": "Rodney"},
            pm={"physical_county": "Waitemata"},
            la={},
            pm_base={"physical_county": "Waitemata"},
            la_base={},
        )

        assert result.values == {"physical_county": "Rodney"}
        assert result.changed_on == {"physical_county": [HUB]}

    def test_an_la_only_field_is_measured_against_the_la_snapshot(self):
        fields = (contact_field("kind"),)

        result = merge(
            fields,
            hub={"kind": "client"},
            pm={"first_name": "Jane"},
            la={"kind": "vendor"},
            pm_base={"first_name": "Jane"},
            la_base={"kind": "client"},
        )

        assert result.values == {"kind": "vendor"}
        assert result.changed_on == {"kind": [LA]}
