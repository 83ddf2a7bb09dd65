from django import forms

from .models import CounterfeitReport

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class CounterfeitReportForm(forms.ModelForm):
    gtin = forms.CharField(max_length=14, required=False, widget=forms.HiddenInput)
    serial = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)

    class Meta:
        model = CounterfeitReport
        fields = ["gtin", "serial", "where_bought", "notes", "contact_email", "photo"]

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError("The photo is larger than 5 MB.")
        return photo


class PreciseLocationForm(forms.Form):
    token = forms.CharField(max_length=200)
    lat = forms.FloatField(min_value=-90, max_value=90)
    lon = forms.FloatField(min_value=-180, max_value=180)
