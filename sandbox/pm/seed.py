"""Realistic law-firm data for the emulated PM: users, contacts, matters and time.

Seeding loads a firm's *existing* data; it is not a stream of live changes. So it
bulk-creates rows (thousands in a second or two) and fires no REST hooks: the hub
finds seeded records by reading or polling (`modifiedTimestamp_gt`), as it would on
first connecting to a firm that has used PM for years. Everything random comes from
the `rng` passed in, so one seed gives the same names, matters and hours again.

Contacts get a blank Reference (Legal Accounting assigns Contact Numbers) except the
`clashing_references`, each given to one contact: a test sets them to numbers LA
already uses, to see the clash reported (ARCHITECTURE.md section 2). Real Actionstep
participants have no `reference`, so the sandbox keeps the Reference in
`importExternalReference` (see models.py). A matter's clients are action participants
of the "Client" type, the primary participant type of every seeded action type.
"""

import random
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from sandbox.routers import SANDBOX_DATABASE

from .models import Action, ActionParticipant, ActionType, Participant, TimeEntry, User
from .services import participant_types_create_defaults, time_entry_amount

BATCH_SIZE = 500

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Margaret", "Steven", "Sandra", "Andrew", "Ashley", "Paul", "Emily", "Joshua",
    "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Aroha", "Wiremu", "Priya", "Wei",
    "Mohammed", "Sofia", "Liam", "Olivia", "Noah", "Grace",
]  # fmt: skip
MIDDLE_NAMES = ["Anne", "Lee", "Marie", "James", "Rose", "John", "Louise", "Edward", "", "", ""]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
    "Campbell", "Mitchell", "Roberts", "Carter", "Ngata", "Patel", "Chen", "Nguyen", "Kowalski",
    "O'Brien", "MacDonald", "Fitzgerald", "Okafor", "Schmidt",
]  # fmt: skip
SALUTATIONS = ["Mr", "Ms", "Mrs", "Dr", "Miss", ""]
COMPANY_WORDS = [
    "Harbour", "Summit", "Pacific", "Granite", "Riverside", "Northern", "Evergreen", "Atlas",
    "Beacon", "Crown", "Meridian", "Pioneer", "Silverline", "Keystone", "Bluewater", "Redwood",
]  # fmt: skip
COMPANY_KINDS = [
    "Holdings", "Construction", "Logistics", "Properties", "Dental", "Engineering", "Foods",
    "Consulting", "Motors", "Medical Group", "Developments", "Trading",
]  # fmt: skip
COMPANY_SUFFIXES = ["LLC", "Inc.", "Ltd", "Pty Ltd", "Corporation", "& Co."]
STREETS = [
    "Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Beach Road", "High Street",
    "Park Avenue", "Elm Street", "Queen Street", "Victoria Road", "Washington Boulevard",
    "Lakeview Terrace", "Hillcrest Road", "Church Street", "Station Road", "Mill Lane",
]  # fmt: skip
CITIES = [
    ("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
    ("Columbus", "OH", "432"), ("Madison", "WI", "537"), ("Boise", "ID", "837"),
    ("Raleigh", "NC", "276"), ("Denver", "CO", "802"), ("Tampa", "FL", "336"),
    ("Sacramento", "CA", "958"), ("Albany", "NY", "122"), ("Richmond", "VA", "232"),
]  # fmt: skip
EMAIL_DOMAINS = ["example.com", "example.net", "mail.example.org", "inbox.test"]
OCCUPATIONS = ["Teacher", "Engineer", "Nurse", "Accountant", "Builder", "Retired", "Dentist", ""]

MATTER_KINDS = [
    ("Conveyancing - Purchase", "Purchase of {address}"),
    ("Conveyancing - Sale", "Sale of {address}"),
    ("Litigation", "{client} v {company}"),
    ("Family Law", "{client} - separation and property settlement"),
    ("Wills and Estates", "Estate of the late {person}"),
    ("Wills and Estates", "{client} - will and powers of attorney"),
    ("Commercial", "{client} - commercial lease review"),
    ("Commercial", "{client} - share purchase agreement"),
    ("Employment", "{client} - employment dispute"),
    ("General Matter", "{client} - general advice"),
]
TASKS = [
    "Telephone attendance on client",
    "Review and amend contract",
    "Draft letter of advice",
    "Email correspondence with other side",
    "Prepare for and attend meeting with client",
    "Review title search and searches",
    "Draft statement of claim",
    "Attend court mention",
    "Prepare settlement statement",
    "Review discovery documents",
    "Draft will and enduring power of attorney",
    "File note and update matter plan",
]
BEHAVIOURS = [
    TimeEntry.BillingBehavior.BILL,
    TimeEntry.BillingBehavior.NO_CHARGE,
    TimeEntry.BillingBehavior.HIDE,
]
BEHAVIOUR_WEIGHTS = [80, 12, 8]
USER_RATES = [Decimal(rate) for rate in ("180.00", "250.00", "320.00", "395.00", "450.00")]


def _address(rng: random.Random) -> dict:
    city, state, zip_prefix = rng.choice(CITIES)
    return {
        "address_line1": f"{rng.randint(1, 2999)} {rng.choice(STREETS)}",
        "address_line2": rng.choice(["", "", "", f"Suite {rng.randint(100, 900)}"]),
        "city": city,
        "state_province": state,
        "post_code": f"{zip_prefix}{rng.randint(10, 99)}",
        "country": "US",
    }


def _phone(rng: random.Random) -> tuple[int, str]:
    return rng.randint(201, 989), f"{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def _company_name(rng: random.Random) -> str:
    words = (COMPANY_WORDS, COMPANY_KINDS, COMPANY_SUFFIXES)
    return " ".join(rng.choice(choices) for choices in words)


def _contact(rng: random.Random, number: int, now) -> Participant:
    physical = _address(rng)
    mailing = physical if rng.random() < 0.8 else _address(rng)
    area, number_text = _phone(rng)
    created = now - timedelta(days=rng.randint(30, 3650), minutes=rng.randint(0, 1439))
    fields = {
        **{f"physical_{key}": value for key, value in physical.items()},
        **{f"mailing_{key}": value for key, value in mailing.items()},
        "phone1_label": "Business",
        "phone1_country": 1,
        "phone1_area": area,
        "phone1_number": number_text,
        "created_at": created,
        "modified_at": created,
    }
    if rng.random() < 0.25:
        name = _company_name(rng)
        slug = name.split()[0].lower()
        initials = "".join(word[0] for word in name.split() if word[0].isalpha()).upper()
        return Participant(
            is_company=True,
            company_name=name,
            display_name=name,
            display_initials=initials[:10],
            email=f"accounts{number}@{slug}.example.com",
            website=f"www.{slug}.example.com",
            **fields,
        )
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    mobile_area, mobile = _phone(rng)
    return Participant(
        salutation=rng.choice(SALUTATIONS),
        first_name=first,
        middle_name=rng.choice(MIDDLE_NAMES),
        last_name=last,
        display_name=f"{last}, {first}",
        display_initials=f"{first[0]}{last[0]}",
        email=f"{first}.{last}{number}@{rng.choice(EMAIL_DOMAINS)}".lower().replace("'", ""),
        occupation=rng.choice(OCCUPATIONS),
        phone2_label="Mobile",
        phone2_country=1,
        phone2_area=mobile_area,
        phone2_number=mobile,
        **fields,
    )


def _users(rng: random.Random, count: int, now) -> list[User]:
    taken = set(User.objects.values_list("email", flat=True))
    pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    chosen = []
    for first, last in pairs:
        email = f"{first}.{last}@example-law.test".lower().replace("'", "")
        if email not in taken:
            taken.add(email)
            chosen.append((first, last, email))
        if len(chosen) == count:
            break
    participants = Participant.objects.bulk_create(
        [
            Participant(
                first_name=first,
                last_name=last,
                display_name=f"{last}, {first}",
                display_initials=f"{first[0]}{last[0]}",
                email=email,
                created_at=now,
                modified_at=now,
            )
            for first, last, email in chosen
        ],
        batch_size=BATCH_SIZE,
    )
    return User.objects.bulk_create(
        [
            User(
                participant=participant,
                first_name=participant.first_name,
                last_name=participant.last_name,
                email=participant.email,
                hourly_rate=rng.choice(USER_RATES),
            )
            for participant in participants
        ],
        batch_size=BATCH_SIZE,
    )


def _matter_name(rng: random.Random, template: str, client: Participant) -> str:
    address = f"{rng.randint(1, 2999)} {rng.choice(STREETS)}, {rng.choice(CITIES)[0]}"
    company = _company_name(rng)
    person = f"{rng.choice(FIRST_NAMES)} {client.last_name or rng.choice(LAST_NAMES)}"
    client_name = client.company_name or f"{client.first_name} {client.last_name}"
    return template.format(address=address, company=company, person=person, client=client_name)


@transaction.atomic(using=SANDBOX_DATABASE)
def seed_pm(
    *,
    contacts: int,
    matters: int,
    time_entries: int,
    users: int = 5,
    rng: random.Random,
    clashing_references: Sequence[str] = (),
) -> dict:
    """Bulk-create a law firm's PM data without firing REST hooks; returns the counts."""
    if matters and not contacts:
        raise ValueError("Matters need contacts to be their clients.")
    if (matters or time_entries) and not users:
        raise ValueError("Matters and time entries need users.")
    if time_entries and not matters:
        raise ValueError("Time entries need matters.")
    now = timezone.now()
    client_type = participant_types_create_defaults()["Client"]

    staff = _users(rng, users, now)
    clients = Participant.objects.bulk_create(
        [_contact(rng, number, now) for number in range(1, contacts + 1)], batch_size=BATCH_SIZE
    )
    clashing = list(clashing_references)[: len(clients)]
    chosen = rng.sample(clients, len(clashing))
    for client, reference in zip(chosen, clashing, strict=True):
        client.import_external_reference = reference
    Participant.objects.bulk_update(chosen, ["import_external_reference"], batch_size=BATCH_SIZE)

    types = {
        name: ActionType.objects.get_or_create(
            name=name, defaults={"primary_participant_type": client_type}
        )[0]
        for name in sorted({kind for kind, _ in MATTER_KINDS})
    }
    actions, client_lists = [], []
    for _ in range(matters):
        kind, template = rng.choice(MATTER_KINDS)
        matter_clients = [rng.choice(clients)]
        if rng.random() < 0.1 and len(clients) > 1:
            second = rng.choice(clients)
            if second is not matter_clients[0]:
                matter_clients.append(second)
        opened = now - timedelta(days=rng.randint(1, 720), minutes=rng.randint(0, 1439))
        actions.append(
            Action(
                name=_matter_name(rng, template, matter_clients[0])[:255],
                action_type=types[kind],
                assigned_to=rng.choice(staff),
                status=Action.Status.ACTIVE if rng.random() < 0.85 else Action.Status.CLOSED,
                status_changed_at=opened,
                created_at=opened,
                modified_at=opened,
            )
        )
        client_lists.append(matter_clients)
    actions = Action.objects.bulk_create(actions, batch_size=BATCH_SIZE)
    ActionParticipant.objects.bulk_create(
        [
            ActionParticipant(
                action=action,
                participant_type_id=action.action_type.primary_participant_type_id,
                participant=client,
                participant_number=number,
            )
            for action, matter_clients in zip(actions, client_lists, strict=True)
            for number, client in enumerate(matter_clients, start=1)
        ],
        batch_size=BATCH_SIZE,
    )

    entries = []
    for _ in range(time_entries):
        action, owner = rng.choice(actions), rng.choice(staff)
        age = max((now - action.created_at).days, 0)
        hours = Decimal(rng.randint(1, 60)) / 10
        billable = hours if rng.random() < 0.85 else (hours / 2).quantize(Decimal("0.1"))
        recorded = now - timedelta(days=rng.randint(0, min(age, 180)))
        entries.append(
            TimeEntry(
                action=action,
                owner=owner,
                created_by=owner,
                timestamp_date=timezone.localdate(recorded),
                description=rng.choice(TASKS),
                actual_hours=hours,
                billable_hours=billable,
                billing_behavior=rng.choices(BEHAVIOURS, BEHAVIOUR_WEIGHTS)[0],
                rate_unit_price=owner.hourly_rate,
                billable_amount=time_entry_amount(billable, owner.hourly_rate),
                created_at=recorded,
            )
        )
    TimeEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)

    return {
        "users": len(staff),
        "contacts": len(clients),
        "matters": len(actions),
        "time_entries": len(entries),
        "clashing_references": len(clashing),
    }
