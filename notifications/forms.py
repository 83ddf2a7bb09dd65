from django import forms
from django.conf import settings

from .models import EVENT_CHOICES, EmailFrequency, EmailSubscription, Webhook


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event"
    )

    class Meta:
        model = Webhook
        fields = ["url", "description", "events"]


class EmailSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event"
    )

    class Meta:
        model = EmailSubscription
        fields = ["email", "events", "frequency", "language"]
        labels = {"frequency": "Alert e-mails", "language": "Language of the e-mails"}
        help_texts = {"frequency": "Other events (recalls, ready batches and print files) are always sent at once."}

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        if language in dict(settings.LANGUAGES):  # the language the person adding the address reads
            self.fields["language"].initial = language
        for name in ("frequency", "language"):  # left out: the model's default (at once, English)
            self.fields[name].required = False

    def clean_frequency(self):
        return self.cleaned_data["frequency"] or EmailFrequency.IMMEDIATE

    def clean_language(self):
        return self.cleaned_data["language"] or "en"
