import datetime
from decimal import Decimal

import factory

from contacts.models import Contact
from matters.models import Matter, MatterBalance
from sync.models import Link, LinkStatus, RecordType, SyncEvent
from timekeeping.models import TimeEntry, Timekeeper


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class TimekeeperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Timekeeper

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lawyer{n}@example-law.test")


class MatterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Matter

    name = factory.Sequence(lambda n: f"Purchase of {n} Beach Rd")
    client = factory.SubFactory(ContactFactory)
    assigned_to = factory.SubFactory(TimekeeperFactory)
    open_date = datetime.date(2026, 1, 5)


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    matter = factory.SubFactory(MatterFactory)
    timekeeper = factory.SubFactory(TimekeeperFactory)
    date = datetime.date(2026, 2, 1)
    description = "Drafting contract"
    actual_hours = Decimal("1.50")
    billable_hours = Decimal("1.50")
    rate = Decimal("300.00")
    amount = Decimal("450.00")


class MatterBalanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MatterBalance

    matter = factory.SubFactory(MatterFactory)
    trust = Decimal("1000.00")


class ContactLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Link

    record_type = RecordType.CONTACT
    contact = factory.SubFactory(ContactFactory)
    status = LinkStatus.SYNCED
    pm_id = factory.Sequence(lambda n: str(1000 + n))
    la_id = factory.Sequence(lambda n: str(5000 + n))


class MatterLinkFactory(ContactLinkFactory):
    record_type = RecordType.MATTER
    contact = None
    matter = factory.SubFactory(MatterFactory)


class TimeEntryLinkFactory(ContactLinkFactory):
    record_type = RecordType.TIME_ENTRY
    contact = None
    time_entry = factory.SubFactory(TimeEntryFactory)


class SyncEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncEvent

    link = factory.SubFactory(ContactLinkFactory)
    direction = SyncEvent.Direction.PM_TO_LA
    action = "create"
    outcome = SyncEvent.Outcome.SUCCESS
    message = "Created in LA"
    duration_ms = 42
