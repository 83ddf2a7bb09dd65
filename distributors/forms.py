from django import forms

from brands.forms import no_control_characters
from codes.models import PrintFormat

from .models import Distributor


class DistributorForm(forms.ModelForm):
    territory = forms.CharField(
        max_length=2000,
        help_text="ISO 3166 codes, separated by commas: countries (SG) and/or states (MY-14, MY-10).",
    )

    class Meta:
        model = Distributor
        fields = ["name", "code", "territory", "contact_name", "contact_email", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["territory"] = ", ".join(self.instance.territory)

    def clean_name(self):
        no_control_characters(self.cleaned_data["name"])
        return self.cleaned_data["name"]


class _RangeForm(forms.Form):
    first_position = forms.IntegerField(label="From position", min_value=1)
    last_position = forms.IntegerField(label="To position", min_value=1)


class AssignRangeForm(_RangeForm):
    distributor = forms.ModelChoiceField(queryset=Distributor.objects.none())
    shipment_reference = forms.CharField(max_length=80, required=False)

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["distributor"].queryset = Distributor.objects.for_brand(brand)
        self.order_fields(["distributor", "first_position", "last_position", "shipment_reference"])


class MoveRangeForm(_RangeForm):
    to = forms.ModelChoiceField(
        label="Move to", queryset=Distributor.objects.none(), required=False, empty_label="Back to the brand (return)"
    )

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = Distributor.objects.for_brand(brand)


class PackCartonsForm(_RangeForm):
    size = forms.IntegerField(label="Units per carton", min_value=1)
    company_prefix = forms.CharField(
        label="GS1 company prefix", max_length=12, help_text="The prefix your GTINs start with, e.g. 0950600."
    )
    extension = forms.IntegerField(label="SSCC extension digit", min_value=0, max_value=9, initial=0)


class CartonAssignForm(forms.Form):
    distributor = forms.ModelChoiceField(
        queryset=Distributor.objects.none(), widget=forms.Select(attrs={"aria-label": "Distributor"})
    )

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["distributor"].queryset = Distributor.objects.for_brand(brand)


class DistributorInviteForm(forms.Form):
    email = forms.EmailField()


class PortalPrintForm(forms.Form):
    format = forms.ChoiceField(choices=PrintFormat.choices, widget=forms.Select(attrs={"aria-label": "Print format"}))
