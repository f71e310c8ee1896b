"""Which hub fields each record type shares with PM and LA, and who wins a conflict.

This is the one declaration of ARCHITECTURE §2's mapping tables on the hub side. The
wire names live once per system, in `sync/connectors/<system>/mapping.py`; both
directions (pull and push) read the same tables.

Owner rule (ARCHITECTURE §4, rule 4): a field changed on one side since the last sync
wins. A field changed differently on several sides goes, in this order, to
1. the hub, when a person changed it here (an admin fixing a clashing number),
2. the field's owner: LA for the numbers it assigns (contact number, matter number),
   PM for everything else (PM is where people work with contacts and matters),
3. the other system.
The losing values are written to the sync history as a conflict.
"""

from dataclasses import dataclass

PM = "pm"
LA = "la"
HUB = "hub"


@dataclass(frozen=True)
class SharedField:
    name: str
    owner: str = PM
    systems: frozenset[str] = frozenset({PM, LA})
    create_only_in: frozenset[str] = frozenset()

    def priority(self) -> tuple[str, str, str]:
        other = LA if self.owner == PM else PM
        return (HUB, self.owner, other)


def _address(prefix: str) -> list[SharedField]:
    parts = ["line1", "line2", "city", "state", "post_code", "country"]
    return [SharedField(f"{prefix}_{part}") for part in parts]


CONTACT_FIELDS: tuple[SharedField, ...] = (
    SharedField("reference", owner=LA),
    SharedField("kind", owner=LA, systems=frozenset({LA})),
    SharedField("is_company"),
    SharedField("company_name"),
    SharedField("title"),
    SharedField("first_name"),
    SharedField("middle_name"),
    SharedField("last_name"),
    SharedField("suffix"),
    SharedField("alias"),
    SharedField("email"),
    *_address("physical"),
    *_address("mailing"),
    SharedField("physical_county", systems=frozenset({PM})),
    SharedField("mailing_county", systems=frozenset({PM})),
    SharedField("phone_business"),
    SharedField("phone_mobile"),
    SharedField("phone_home"),
    SharedField("phone_other"),
    SharedField("phone_fax"),
)

# Open Date and Responsible/Lead are set in LA only when the file is created; later
# changes in LA do not come back and later hub changes are not pushed (ARCHITECTURE §2).
MATTER_FIELDS: tuple[SharedField, ...] = (
    SharedField("name"),
    SharedField("file_reference", owner=LA),
    # The client is set in PM by `actioncreate`; PM's API can't change it afterwards.
    SharedField("client_id", create_only_in=frozenset({PM})),
    SharedField("assigned_to_id"),
    # PM actions have no open date: the hub takes the day PM created the matter.
    SharedField("open_date", systems=frozenset({LA}), create_only_in=frozenset({LA})),
    SharedField("status", systems=frozenset({PM})),
)


def field_names(fields: tuple[SharedField, ...], system: str) -> list[str]:
    return [f.name for f in fields if system in f.systems]
