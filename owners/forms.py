from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Purpose

ANSWERS = [("yes", _("Yes, I agree")), ("no", _("No"))]


class RegistrationForm(forms.Form):
    """An owner's details and one explicit answer per purpose: nothing pre-ticked, no purpose bundled."""

    name = forms.CharField(label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        help_text=_("An e-mail address, a phone number or both."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    purchase_place = forms.CharField(label=_("Where you bought it (optional)"), max_length=120, required=False)
    purchased_on = forms.DateField(
        label=_("Date of purchase (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, consents, **kwargs):
        super().__init__(*args, **kwargs)
        for consent in consents:
            self.fields[f"consent_{consent.purpose}"] = forms.ChoiceField(
                label=consent.title, help_text=consent.text, choices=ANSWERS, widget=forms.RadioSelect
            )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not (7 <= sum(ch.isdigit() for ch in phone) <= 15 and set(phone) <= set("0123456789 +-()")):
            raise forms.ValidationError(_("Enter a phone number, e.g. +60 12-345 6789."))
        return phone

    def consents(self) -> dict[str, bool]:
        return {purpose: self.cleaned_data.get(f"consent_{purpose}") == "yes" for purpose in Purpose.values}


class LinkRequestForm(forms.Form):
    """ "My registration": the address the owner registered with, to mail the link to."""

    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
