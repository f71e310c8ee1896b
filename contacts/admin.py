from django.contrib import admin

from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .models import Contact

ADDRESS_PARTS = ["line1", "line2", "city", "state", "post_code", "country", "county"]


@admin.register(Contact)
class ContactAdmin(LinkedRecordAdmin):
    resyncable = True
    list_display = ["display_name", "reference", "kind", "email", "link_indicator"]
    list_filter = [LinkStatusFilter, "kind", "is_company", "is_closed"]
    list_select_related = ["link"]
    search_fields = ["last_name", "first_name", "company_name", "reference", "email"]
    fieldsets = [
        (None, {"fields": ["reference", "kind", "is_closed"]}),
        (
            "Name",
            {
                "fields": [
                    "is_company",
                    "company_name",
                    "title",
                    "first_name",
                    "middle_name",
                    "last_name",
                    "suffix",
                    "alias",
                    "email",
                ]
            },
        ),
        ("Physical address", {"fields": [f"physical_{part}" for part in ADDRESS_PARTS]}),
        ("Mailing address", {"fields": [f"mailing_{part}" for part in ADDRESS_PARTS]}),
        (
            "Phones",
            {
                "fields": [
                    "phone_business",
                    "phone_mobile",
                    "phone_home",
                    "phone_other",
                    "phone_fax",
                ]
            },
        ),
        ("Link", {"fields": ["link_indicator", "link_details", "sync_history"]}),
    ]

    @admin.display(description="Name", ordering="last_name")
    def display_name(self, obj):
        return obj.display_name
