from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from .models import AdditionalInfo, FailureReason

RESULTS = [
    ("", "Any result"),
    ("verified", "Verified"),
    ("not_verified", "Not verified"),
    *((f"reason:{value}", f"Not verified: {label}") for value, label in FailureReason.choices),
    *((f"info:{value}", f"Verified: {label}") for value, label in AdditionalInfo.choices),
]


class RequestFilterForm(forms.Form):
    """The request log's filters (GET): result, requester, time, and a unit's serial or GTIN."""

    DAYS = [("", "Any time"), ("1", "Today"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]

    result = forms.ChoiceField(label="Result", choices=RESULTS, required=False)
    gln = forms.RegexField(
        label="Requester's GLN", regex=r"^[0-9]{13}$", required=False, error_messages={"invalid": "13 digits."}
    )
    days = forms.ChoiceField(label="When", choices=DAYS, required=False)
    q = forms.CharField(label="Search", required=False, max_length=40, help_text="Serial or GTIN")

    def filter(self, requests):
        """The requests matching the valid filters (invalid ones are ignored, and shown as errors)."""
        data = self.cleaned_data if self.is_valid() else {}
        result = data.get("result") or ""
        kind, _, value = result.partition(":")
        if result == "verified":
            requests = requests.filter(verified=True)
        elif result == "not_verified":
            requests = requests.filter(verified=False)
        elif kind == "reason":
            requests = requests.filter(verified=False, failure_reason=value)
        elif kind == "info":
            requests = requests.filter(verified=True, additional_info=value)
        if data.get("gln"):
            requests = requests.filter(requester_gln=data["gln"])
        if data.get("days"):
            requests = requests.filter(requested_at__gte=timezone.now() - timedelta(days=int(data["days"])))
        if data.get("q"):
            q = data["q"].strip()
            requests = requests.filter(Q(serial=q) | Q(gtin=q.zfill(14) if q.isdigit() else q))
        return requests
