"""What the LA API reads and writes: separate input and output serializers.

Input serializers only parse and check types and lengths; every business rule (numbers,
clashes, locking, balances) is in `services.py`. They declare no uniqueness validators:
a clash must answer 409 naming the holder, which the services do, not DRF's generic
"already exists". Output money is a decimal string with two places, never a float.
"""

from decimal import Decimal

from rest_framework import serializers

from .amounts import round_hours
from .models import (
    MONEY,
    Contact,
    FeeEarner,
    File,
    Invoice,
    InvoiceLine,
    LASettings,
    LedgerTransaction,
    TimeEntry,
    Webhook,
)

ADDRESS_PARTS = ("line1", "line2", "city", "state", "post_code", "country")


class AddressField(serializers.Field):
    """A contact's main or additional address as one object, stored as flat columns."""

    def __init__(self, *, prefix: str, **kwargs):
        kwargs["source"] = "*"
        super().__init__(**kwargs)
        self.prefix = prefix

    def to_representation(self, contact):
        return {part: getattr(contact, f"{self.prefix}_{part}") for part in ADDRESS_PARTS}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "an address is an object with line1, line2, city, state, post_code and country"
            )
        errors, values = {}, {}
        for part, value in data.items():
            if part not in ADDRESS_PARTS:
                errors[part] = [f"unknown address part; known: {', '.join(ADDRESS_PARTS)}"]
                continue
            value = "" if value is None else value
            max_length = Contact._meta.get_field(f"{self.prefix}_{part}").max_length
            if not isinstance(value, str):
                errors[part] = ["send text"]
            elif len(value) > max_length:
                errors[part] = [f"Ensure this field has no more than {max_length} characters."]
            else:
                values[f"{self.prefix}_{part}"] = value.strip()
        if errors:
            raise serializers.ValidationError(errors)
        return values


class HoursField(serializers.DecimalField):
    """Hours are rounded half up to two places (amounts.py) instead of being refused."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=8, decimal_places=2, min_value=0, **kwargs)

    def validate_precision(self, value):
        return super().validate_precision(round_hours(value))


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, **kwargs)


def missing(label: str) -> dict:
    return {"error_messages": {"does_not_exist": f"no {label} has id {{pk_value}}"}}


CONTACT_FIELDS = [
    "contact_number",
    "kind",
    "is_company",
    "company_name",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "alias",
    "email",
    "main_address",
    "additional_address",
    "phone_work",
    "phone_mobile",
    "phone_home",
    "phone_other",
    "phone_fax",
    "pm_contact_id",
    "gl_account",
    "is_1099",
    "billing_rate",
]


class ContactInput(serializers.ModelSerializer):
    main_address = AddressField(prefix="main", required=False)
    additional_address = AddressField(prefix="additional", required=False)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        validators = []
        extra_kwargs = {
            "contact_number": {"validators": [], "required": False},
            "pm_contact_id": {"allow_blank": True, "validators": []},
        }


class ContactOutput(serializers.ModelSerializer):
    main_address = AddressField(prefix="main")
    additional_address = AddressField(prefix="additional")

    class Meta:
        model = Contact
        fields = ["id", "display_name", *CONTACT_FIELDS, "created_at", "modified_at"]


FILE_FIELDS = [
    "file_number",
    "description",
    "contact",
    "pm_matter_id",
    "assigned_fee_earner",
    "responsible_fee_earner",
    "lead_fee_earner",
    "open_date",
    "status",
]


class FileInput(serializers.ModelSerializer):
    class Meta:
        model = File
        fields = FILE_FIELDS
        validators = []
        extra_kwargs = {
            "file_number": {"validators": [], "required": False},
            "pm_matter_id": {"allow_blank": True, "validators": []},
            "contact": missing("contact"),
            "open_date": {"allow_null": True},
            "assigned_fee_earner": missing("fee earner"),
            "responsible_fee_earner": missing("fee earner"),
            "lead_fee_earner": missing("fee earner"),
        }


class FileOutput(serializers.ModelSerializer):
    class Meta:
        model = File
        fields = ["id", *FILE_FIELDS, "created_at", "modified_at"]


class FeeEarnerInput(serializers.ModelSerializer):
    class Meta:
        model = FeeEarner
        fields = ["name", "email"]
        validators = []
        extra_kwargs = {"email": {"validators": []}}


class FeeEarnerOutput(serializers.ModelSerializer):
    class Meta:
        model = FeeEarner
        fields = ["id", "name", "email", "created_at", "modified_at"]


class TimeEntryItemInput(serializers.Serializer):
    """One item of `POST time-entries/batch`; ids are resolved by the service in bulk."""

    file = serializers.IntegerField()
    fee_earner = serializers.IntegerField()
    date = serializers.DateField()
    description = serializers.CharField(allow_blank=True, required=False, default="")
    hours = HoursField()
    rate = money(min_value=0)
    amount = money(min_value=0, required=False, allow_null=True)
    billing_behaviour = serializers.ChoiceField(
        choices=TimeEntry.BillingBehaviour.choices, default=TimeEntry.BillingBehaviour.BILL
    )
    external_id = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )


class TimeEntryUpdateInput(serializers.ModelSerializer):
    hours = HoursField(required=False)
    rate = money(min_value=0, required=False)
    amount = money(min_value=0, required=False)

    class Meta:
        model = TimeEntry
        fields = [
            "fee_earner",
            "date",
            "description",
            "hours",
            "rate",
            "amount",
            "billing_behaviour",
        ]
        extra_kwargs = {"fee_earner": missing("fee earner")}


class TimeEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "file",
            "fee_earner",
            "date",
            "description",
            "hours",
            "rate",
            "amount",
            "billing_behaviour",
            "external_id",
            "status",
            "invoice",
            "billed_at",
            "created_at",
            "modified_at",
        ]


class InvoiceLineOutput(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "time_entry", "disbursement", "description", "amount"]


class InvoiceOutput(serializers.ModelSerializer):
    lines = InvoiceLineOutput(many=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "file", "issued_on", "total", "currency", "lines", "created_at"]

    def get_currency(self, invoice) -> str:
        return self.context["currency"]


class BillInput(serializers.Serializer):
    issued_on = serializers.DateField(required=False)


class TransactionInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LedgerTransaction.Kind.choices)
    amount = money(min_value=Decimal("0.01"))
    date = serializers.DateField(required=False)
    description = serializers.CharField(max_length=300, allow_blank=True, required=False)
    reference = serializers.CharField(max_length=100, allow_blank=True, required=False)


class TransactionOutput(serializers.ModelSerializer):
    unallocated_amount = money()

    class Meta:
        model = LedgerTransaction
        fields = [
            "id",
            "file",
            "kind",
            "amount",
            "applied_amount",
            "unallocated_amount",
            "date",
            "description",
            "reference",
            "invoice",
            "created_at",
        ]


class BalanceOutput(serializers.Serializer):
    file = serializers.IntegerField()
    trust = money()
    wip_fees = money()
    wip_disbursements = money()
    accounts_receivable = money()
    unallocated_credit = money()
    currency = serializers.CharField()
    as_of = serializers.DateTimeField()
    changed_at = serializers.DateTimeField()


class SettingsInput(serializers.ModelSerializer):
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", required=False, error_messages={"invalid": "a three-letter ISO code"}
    )

    class Meta:
        model = LASettings
        fields = ["file_numbering", "currency"]


class SettingsOutput(serializers.ModelSerializer):
    class Meta:
        model = LASettings
        fields = ["file_numbering", "currency", "modified_at"]


class WebhookInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class WebhookOutput(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "created_at"]
