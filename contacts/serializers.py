"""Contacts in and out of the API. Input is the hub's own fields; output adds the link."""

from rest_framework import serializers

from sync.serializers import LinkedRecordFilterSerializer, LinkStateField

from .models import Contact, validate_reference

ADDRESS_PARTS = ["line1", "line2", "city", "state", "post_code", "country", "county"]

CONTACT_FIELDS = [
    "reference",
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
    *(f"physical_{part}" for part in ADDRESS_PARTS),
    *(f"mailing_{part}" for part in ADDRESS_PARTS),
    "phone_business",
    "phone_mobile",
    "phone_home",
    "phone_other",
    "phone_fax",
    "is_closed",
]


class ContactInputSerializer(serializers.ModelSerializer):
    """A contact as a client writes it. Only validated here: the view saves it."""

    reference = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        validators=[validate_reference],
        help_text="LA's Contact Number: no `*` or spaces. Leave blank and LA assigns one.",
    )

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS

    def validate(self, data):
        """LA's rule, checked before anything is sent: a company needs its name, a
        person a first or last name."""

        def current(name: str):
            return data[name] if name in data else getattr(self.instance, name, "")

        if current("is_company"):
            if not current("company_name"):
                raise serializers.ValidationError(
                    {"company_name": "A company needs a company name."}
                )
        elif not (current("first_name") or current("last_name")):
            raise serializers.ValidationError({"last_name": "A person needs a first or last name."})
        return data


class ContactOutputSerializer(serializers.ModelSerializer):
    link = LinkStateField()

    class Meta:
        model = Contact
        fields = ["id", "display_name", *CONTACT_FIELDS, "created_at", "updated_at", "link"]
        read_only_fields = fields


class ContactFilterSerializer(LinkedRecordFilterSerializer):
    search = serializers.CharField(
        required=False, allow_blank=True, help_text="Part of a name, the reference or email."
    )
