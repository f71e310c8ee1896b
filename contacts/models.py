from django.core.exceptions import ValidationError
from django.db import models


def validate_reference(value: str) -> None:
    """A Reference (LA's Contact Number) may not contain `*` or spaces (ARCHITECTURE §2)."""
    if "*" in value or any(ch.isspace() for ch in value):
        raise ValidationError(
            "A reference may not contain '*' or spaces.", code="invalid_reference"
        )


class Contact(models.Model):
    """The hub's copy of a contact that exists in PM (a participant) and LA (a contact).

    Field names follow the mapping table in ARCHITECTURE.md §2. County and any phone
    numbers beyond the first of each kind are kept but never sent to LA.
    """

    class Kind(models.TextChoices):
        CLIENT = "client", "Client"
        VENDOR = "vendor", "Vendor"
        OTHER = "other", "Other"

    reference = models.CharField(
        "reference",
        max_length=50,
        blank=True,
        db_index=True,
        validators=[validate_reference],
        help_text="LA's Contact Number. Leave blank and LA assigns the next one.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLIENT)

    is_company = models.BooleanField("company", default=False)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=30, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=30, blank=True)
    alias = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True, db_index=True)

    physical_line1 = models.CharField("physical address line 1", max_length=200, blank=True)
    physical_line2 = models.CharField("physical address line 2", max_length=200, blank=True)
    physical_city = models.CharField(max_length=100, blank=True)
    physical_state = models.CharField("physical state/province", max_length=100, blank=True)
    physical_post_code = models.CharField("physical zip/post code", max_length=20, blank=True)
    physical_country = models.CharField(max_length=100, blank=True)
    physical_county = models.CharField(max_length=100, blank=True)

    mailing_line1 = models.CharField("mailing address line 1", max_length=200, blank=True)
    mailing_line2 = models.CharField("mailing address line 2", max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state = models.CharField("mailing state/province", max_length=100, blank=True)
    mailing_post_code = models.CharField("mailing zip/post code", max_length=20, blank=True)
    mailing_country = models.CharField(max_length=100, blank=True)
    mailing_county = models.CharField(max_length=100, blank=True)

    phone_business = models.CharField("business phone", max_length=40, blank=True)
    phone_mobile = models.CharField("mobile phone", max_length=40, blank=True)
    phone_home = models.CharField("home phone", max_length=40, blank=True)
    phone_other = models.CharField("other phone", max_length=40, blank=True)
    phone_fax = models.CharField("fax", max_length=40, blank=True)

    is_closed = models.BooleanField(
        "closed", default=False, help_text="Closing a contact is not synced to LA."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "company_name", "pk"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.is_company and self.company_name:
            return self.company_name
        name = ", ".join(part for part in (self.last_name, self.first_name) if part)
        return name or self.company_name or self.email or f"Contact #{self.pk}"
