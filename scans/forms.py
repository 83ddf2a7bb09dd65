from django import forms

from brands.files import clean_image

from .models import CounterfeitReport


class CounterfeitReportForm(forms.ModelForm):
    gtin = forms.CharField(max_length=14, required=False, widget=forms.HiddenInput)
    serial = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)

    class Meta:
        model = CounterfeitReport
        fields = ["gtin", "serial", "where_bought", "notes", "contact_email", "photo"]

    def clean_photo(self):
        """Re-encoded here, at the edge: the stored photo has no EXIF (a phone writes its GPS position there)."""
        photo = self.cleaned_data.get("photo")
        return clean_image(photo) if photo else photo


class PreciseLocationForm(forms.Form):
    token = forms.CharField(max_length=200)
    lat = forms.FloatField(min_value=-90, max_value=90)
    lon = forms.FloatField(min_value=-180, max_value=180)
