"""Seed the emulated LA with contacts that exist only in LA, and with fee earners.

Decisions:

- Contacts go through `services.contacts_import`: numbered from the same sequences as
  any other contact (clients `25`, vendors `V~3`, others `O~2`), in one locked pass and
  bulk inserts, so thousands take well under a second.
- Seeding sends **no webhooks**: these contacts are the firm's history in LA, not news.
  The hub finds them by listing contacts (e.g. with `modified_since`).
- Fee earners are created through `services.fee_earner_create`; one whose email is
  already in LA is kept as it is, so seeding twice does not fail on them.
- Everything random comes from the `rng` passed in: the same seed gives the same firm.
"""

import random

from .models import Contact, FeeEarner
from .services import contacts_import, fee_earner_create

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily", "Joshua",
    "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Aroha", "Wiremu", "Priya", "Raj",
    "Mei", "Wei", "Sione", "Losa", "Fatima", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
    "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Ngata", "Patel", "Chen",
    "Nguyen", "Tupou", "O'Brien", "MacDonald", "Kowalski", "Haddad", "Singh",
]  # fmt: skip
COMPANY_WORDS = [
    "Harbour", "Summit", "Kauri", "Pinnacle", "Riverside", "Northern", "Coastal", "Meridian",
    "Atlas", "Evergreen", "Granite", "Silverfern", "Beacon", "Crown", "Union", "Pacific",
]  # fmt: skip
COMPANY_KINDS = [
    "Holdings", "Properties", "Logistics", "Construction", "Trust", "Consulting", "Imports",
    "Developments", "Partners", "Foods",
]  # fmt: skip
VENDOR_KINDS = [
    "Court Services", "Process Servers", "Couriers", "Title Search", "Valuations",
    "Translation Services", "Forensic Accounting", "Office Supplies",
]  # fmt: skip
STREETS = [
    "Queen Street", "High Street", "Victoria Avenue", "Church Road", "Station Road",
    "Park Lane", "Beach Road", "Main Street", "Elm Street", "Harbour View Drive",
]  # fmt: skip
CITIES = [
    ("Auckland", "Auckland", "1010", "New Zealand"),
    ("Wellington", "Wellington", "6011", "New Zealand"),
    ("Sydney", "NSW", "2000", "Australia"),
    ("Melbourne", "VIC", "3000", "Australia"),
    ("Seattle", "WA", "98101", "United States"),
    ("Denver", "CO", "80202", "United States"),
    ("Austin", "TX", "78701", "United States"),
    ("Boston", "MA", "02108", "United States"),
]
TITLES = ["", "", "Mr", "Ms", "Mrs", "Dr"]


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(200, 989)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def _address(rng: random.Random) -> dict:
    city, state, post_code, country = rng.choice(CITIES)
    return {
        "main_line1": f"{rng.randint(1, 499)} {rng.choice(STREETS)}",
        "main_city": city,
        "main_state": state,
        "main_post_code": post_code,
        "main_country": country,
    }


def _person(rng: random.Random, serial: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace("'", "")
    return {
        "kind": Contact.Kind.CLIENT,
        "title": rng.choice(TITLES),
        "first_name": first,
        "middle_name": rng.choice(["", "", "", rng.choice(FIRST_NAMES)]),
        "last_name": last,
        "email": f"{handle}{serial}@example.com",
        "phone_mobile": _phone(rng),
        "phone_home": rng.choice(["", _phone(rng)]),
        **_address(rng),
    }


def _company(rng: random.Random, serial: int, *, kind: str) -> dict:
    words = VENDOR_KINDS if kind == Contact.Kind.VENDOR else COMPANY_KINDS
    name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(words)}"
    domain = name.lower().replace(" ", "")
    row = {
        "kind": kind,
        "is_company": True,
        "company_name": f"{name} Ltd",
        "email": f"accounts{serial}@{domain}.example.com",
        "phone_work": _phone(rng),
        "phone_fax": rng.choice(["", _phone(rng)]),
        **_address(rng),
    }
    if kind == Contact.Kind.VENDOR:
        row.update(gl_account=f"5{rng.randint(100, 999)}", is_1099=rng.random() < 0.4)
    return row


def seed_la(*, contacts: int, fee_earners: list[tuple[str, str]], rng: random.Random) -> dict:
    """Create `contacts` LA-only contacts (about 80% clients, 12% vendors, 8% others; a
    quarter of the clients are companies) and the given `(name, email)` fee earners.

    Answers `{"contact_numbers": [...], "contact_ids": [...], "fee_earner_ids": [...]}`,
    the numbers in the order the contacts were generated.
    """
    rows = []
    for serial in range(1, contacts + 1):
        roll = rng.random()
        if roll < 0.12:
            rows.append(_company(rng, serial, kind=Contact.Kind.VENDOR))
        elif roll < 0.20:
            rows.append(_company(rng, serial, kind=Contact.Kind.OTHER))
        elif roll < 0.40:
            rows.append(_company(rng, serial, kind=Contact.Kind.CLIENT))
        else:
            rows.append(_person(rng, serial))
    created = contacts_import(rows=rows)

    fee_earner_ids = []
    for name, email in fee_earners:
        existing = FeeEarner.objects.filter(email__iexact=email).first()
        fee_earner = existing or fee_earner_create(name=name, email=email)
        fee_earner_ids.append(fee_earner.pk)

    return {
        "contact_numbers": [contact.contact_number for contact in created],
        "contact_ids": [contact.pk for contact in created],
        "fee_earner_ids": fee_earner_ids,
    }
