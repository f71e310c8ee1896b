from django import forms

from matters.models import Matter

from .models import Timekeeper


class BillingFilterForm(forms.Form):
    """Narrow a send-for-billing batch by timekeeper, matter and date range."""

    timekeeper = forms.ModelChoiceField(queryset=Timekeeper.objects.all(), required=False)
    matter = forms.CharField(
        label="Matter (file reference)", required=False, max_length=50, strip=True
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_matter(self):
        reference = self.cleaned_data["matter"]
        if not reference:
            return None
        matter = Matter.objects.filter(file_reference=reference).first()
        if matter is None:
            raise forms.ValidationError(f"No matter has the file reference {reference!r}.")
        return matter

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def filters(self) -> dict:
        """The filters as plain values, to be kept with the batch."""
        data = self.cleaned_data
        return {
            "timekeeper": data["timekeeper"].pk if data.get("timekeeper") else None,
            "matter": data["matter"].pk if data.get("matter") else None,
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
        }
