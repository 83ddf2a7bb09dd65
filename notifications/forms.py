from django import forms
from django.conf import settings

from . import signing
from .models import EVENT_CHOICES, EmailSubscription, Webhook


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event"
    )

    class Meta:
        model = Webhook
        fields = ["url", "description", "events"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        problem = signing.target_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        if problem:
            raise forms.ValidationError(problem)
        return url


class EmailSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event"
    )

    class Meta:
        model = EmailSubscription
        fields = ["email", "events"]

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand = brand

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if EmailSubscription.objects.for_brand(self.brand).filter(email=email).exists():
            raise forms.ValidationError("That address already gets notifications.")
        return email
