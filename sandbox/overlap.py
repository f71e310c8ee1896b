"""Seed both emulators as a firm that used PM and LA side by side holds them:
the same people and matters in both systems, linked by nothing, for onboarding to match.

`overlap_seed(n)` makes `n` people, in five kinds, in turn:

- **numbered**: the same person in both, PM's Reference equal to LA's Contact Number,
  with a matter in both whose File Reference equals LA's File Number;
- **named**: the same name and email in both, no number in PM (LA numbered it itself);
- **near miss**: one person in PM, and in LA two records of the same email whose names
  differ only in case and spacing (as a typed-twice record does): ambiguous, for a
  person to decide;
- **PM only** and **LA only**: a client one system alone holds (PM's with a matter).

Records are made through the emulators' services, so every rule of theirs holds; no
hook is registered yet when a firm first seeds, so nothing is announced.
"""

from __future__ import annotations

import random

from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services

KINDS = ("numbered", "named", "near_miss", "pm_only", "la_only")
FIRST = ["Aroha", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hemi", "Ines", "Jack"]
LAST = ["Walker", "Ngata", "Patel", "Chen", "Okafor", "Moreau", "Tupou", "Singh", "Kowalski"]
STREETS = ["Queen Street", "Beach Road", "Elm Street", "Park Lane", "Station Road"]


def _person(rng: random.Random, serial: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    street = f"{rng.randint(1, 400)} {rng.choice(STREETS)}"
    return {
        "first": first,
        "last": f"{last}-{serial}",  # unique, so only the intended records match
        "email": f"{first.lower()}.{last.lower()}.{serial}@overlap.example",
        "street": street,
    }


def _pm_person(person: dict, **fields) -> pm.Participant:
    return pm_services.participant_create(
        first_name=person["first"],
        last_name=person["last"],
        email=person["email"],
        physical_address_line1=person["street"],
        physical_city="Auckland",
        physical_country="NZ",
        **fields,
    )


def _la_person(person: dict, **fields):
    data = {
        "first_name": person["first"],
        "last_name": person["last"],
        "email": person["email"],
        "main_line1": person["street"],
        "main_city": "Auckland",
        **fields,
    }
    return la_services.contact_create(data=data)


def _pm_matter(name: str, client: pm.Participant, **fields) -> pm.Action:
    action_type, _ = pm.ActionType.objects.get_or_create(name="Conveyancing")
    return pm_services.action_create(
        name=name, action_type_id=action_type.pk, primary_participant_ids=[client.pk], **fields
    )


def overlap_seed(n: int, *, rng: random.Random) -> dict[str, int]:
    """Make `n` people of the five kinds in turn (see the module); answers how many of
    each kind."""
    made = dict.fromkeys(KINDS, 0)
    for serial in range(1, n + 1):
        kind = KINDS[(serial - 1) % len(KINDS)]
        person = _person(rng, serial)
        if kind == "numbered":
            number = f"OV{serial:04d}"
            client = _pm_person(person, import_external_reference=number)
            contact = _la_person(person, contact_number=number)
            file_number = f"OV-{serial:04d}"
            _pm_matter(f"Purchase for {person['last']}", client, reference=file_number)
            la_services.file_create(
                data={
                    "contact": contact,
                    "description": f"Purchase for {person['last']}",
                    "file_number": file_number,
                }
            )
        elif kind == "named":
            _pm_person(person)
            _la_person(person)
        elif kind == "near_miss":
            _pm_person(person)
            _la_person(person)
            _la_person({**person, "first": person["first"].upper(), "last": f" {person['last']} "})
        elif kind == "pm_only":
            client = _pm_person(person)
            _pm_matter(f"Lease for {person['last']}", client)
        else:
            _la_person(person)
        made[kind] += 1
    return made
