from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from codes import packstates, recalls
from codes.models import ChangeScope, CodeBatch, CodeStatus, Product
from core.files import clean_image

from . import queries
from .models import AlertStatus, CounterfeitReport, DetectionSettings, ReportStatus, ScanOutcome, ScanSource


class CounterfeitReportForm(forms.ModelForm):
    gtin = forms.CharField(max_length=14, required=False, widget=forms.HiddenInput)
    serial = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    # The signed id of the scan whose page the report comes from (scans.follow_up.locate_token).
    token = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)

    class Meta:
        model = CounterfeitReport
        fields = ["gtin", "serial", "where_bought", "notes", "contact_email", "photo"]
        # The consumer's language: the verify page is read in English, Malay, Chinese or Tamil.
        labels = {
            "where_bought": _("Where did you buy it?"),
            "notes": _("Anything else we should know?"),
            "contact_email": _("Your e-mail (optional, if you would like an answer)"),
            "photo": _("A photo of the label (optional)"),
        }
        help_texts = {"where_bought": _("The shop or website, and the town.")}

    def clean_photo(self):
        """Re-encoded here, at the edge: the stored photo has no EXIF (a phone writes its GPS position there)."""
        photo = self.cleaned_data.get("photo")
        return clean_image(photo) if photo else photo


class PreciseLocationForm(forms.Form):
    token = forms.CharField(max_length=200)
    lat = forms.FloatField(min_value=-90, max_value=90)
    lon = forms.FloatField(min_value=-180, max_value=180)


def _country_list(value: str) -> list[str]:
    codes = sorted({part.strip().upper() for part in value.replace(";", ",").split(",") if part.strip()})
    bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
    if bad:
        raise forms.ValidationError(f"Use two-letter ISO country codes (MY, SG …), not {', '.join(bad)}.")
    return codes


class DetectionSettingsForm(forms.ModelForm):
    markets = forms.CharField(required=False, help_text="Countries you sell in, e.g. MY, SG, TH; empty: everywhere")
    blocked_countries = forms.CharField(required=False, help_text="Countries your goods must never be in")

    class Meta:
        model = DetectionSettings
        fields = [
            "max_regions",
            "max_devices",
            "max_speed_kmh",
            "min_travel_km",
            "markets",
            "blocked_countries",
            "hot_spot_scans",
            "hot_spot_minutes",
            "late_scan_alerts",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("markets", "blocked_countries"):
            self.initial[name] = ", ".join(getattr(self.instance, name) or [])

    def clean_markets(self):
        return _country_list(self.cleaned_data["markets"])

    def clean_blocked_countries(self):
        return _country_list(self.cleaned_data["blocked_countries"])


class AlertMoveForm(forms.Form):
    status = forms.ChoiceField(choices=AlertStatus.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class StatusChangeForm(forms.Form):
    """A recall (or other status change) of a lot, a batch range, or listed serials of one product."""

    to_status = forms.ChoiceField(label="New status", choices=[])
    scope = forms.ChoiceField(choices=ChangeScope.choices, widget=forms.RadioSelect, initial=ChangeScope.BATCH)
    product = forms.ModelChoiceField(queryset=Product.objects.none(), required=False, help_text="For a lot or serials")
    lot_number = forms.CharField(required=False, max_length=20)
    batch = forms.ModelChoiceField(queryset=CodeBatch.objects.none(), required=False)
    first_position = forms.IntegerField(required=False, min_value=1, help_text="1-based; empty: from the first")
    last_position = forms.IntegerField(required=False, min_value=1, help_text="Inclusive; empty: to the last")
    serials = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    consumer_message = forms.CharField(
        label="Message to consumers",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to consumers who scan these units (optional); in English, and to every language left empty",
    )

    # Which scope each scope field belongs to: the page shows only the chosen scope's fields (static/js/recall_form.js).
    SCOPE_FIELDS = {
        "product": (ChangeScope.LOT, ChangeScope.SERIALS),
        "lot_number": (ChangeScope.LOT,),
        "batch": (ChangeScope.BATCH,),
        "first_position": (ChangeScope.BATCH,),
        "last_position": (ChangeScope.BATCH,),
        "serials": (ChangeScope.SERIALS,),
    }

    def __init__(self, *args, brand, recall: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand = brand
        # One optional message field per other language of the verify page, generated from the languages.
        for code in recalls.MESSAGE_LANGUAGES:
            self.fields[self.message_field(code)] = forms.CharField(
                label=f"Message to consumers in {recalls.language_name(code)}",
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Optional: empty, they read the message above",
            )
        self.fields["product"].queryset = Product.objects.for_brand(brand)
        self.fields["batch"].queryset = CodeBatch.objects.for_brand(brand).select_related("product", "lot")
        statuses = [c for c in CodeStatus.choices if packstates.can_change_to(c[0])]
        if recall:
            statuses = [c for c in statuses if c[0] == CodeStatus.RECALLED]
        self.fields["to_status"].choices = statuses

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope in (ChangeScope.LOT, ChangeScope.SERIALS) and not data.get("product"):
            self.add_error("product", "Choose the product.")
        if scope == ChangeScope.BATCH and not data.get("batch"):
            self.add_error("batch", "Choose the batch.")
        if scope == ChangeScope.LOT and data.get("product"):
            try:
                data["lot"] = recalls.lot_by_number(product=data["product"], number=data.get("lot_number", ""))
            except recalls.ChangeError as exc:
                self.add_error(exc.field, exc.message)
        if scope == ChangeScope.SERIALS and not data.get("serials", "").split():
            self.add_error("serials", "List at least one serial.")
        return data

    @staticmethod
    def message_field(language: str) -> str:
        return "consumer_message_" + language.replace("-", "_")

    def consumer_messages(self) -> dict[str, str]:
        """{language code: message} from the cleaned form, for the service."""
        return {code: self.cleaned_data[self.message_field(code)] for code in recalls.MESSAGE_LANGUAGES}

    def scoped_fields(self) -> list[tuple]:
        """(bound field, the scopes it belongs to as "lot serials", or "" for every scope)."""
        return [(field, " ".join(self.SCOPE_FIELDS.get(field.name, ()))) for field in self.visible_fields()]

    def scope_arguments(self) -> dict:
        """The service's scope arguments from the cleaned form."""
        data = self.cleaned_data
        if data["scope"] == ChangeScope.LOT:
            return {"lot": data["lot"]}
        if data["scope"] == ChangeScope.BATCH:
            return {
                "batch": data["batch"],
                "first_position": data["first_position"],
                "last_position": data["last_position"],
            }
        return {"product": data["product"], "serials": data["serials"].split()}


class UnitStatusForm(forms.Form):
    """One unit's new pack state from the code page, with the reason the audit trail keeps. Back to active is
    not offered: that is undoing the change that moved it (EU FMD rules, on the change's page)."""

    status = forms.ChoiceField(
        label="Change this unit's state",
        choices=[c for c in CodeStatus.choices if packstates.can_change_to(c[0])],
        help_text="The verify page says so on the very next scan.",
    )
    reason = forms.CharField(max_length=2000, help_text="Why: it goes into the audit trail.")


class ScanFilterForm(forms.Form):
    """The scan list's filters (GET): every overview tile links to the list with some of these set."""

    DAYS = [("", "Any time"), ("1", "Today"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]

    q = forms.CharField(label="Search", required=False, max_length=100, help_text="Serial, GTIN or place")
    days = forms.ChoiceField(label="When", choices=DAYS, required=False)
    product = forms.TypedChoiceField(label="Product", required=False, coerce=int, empty_value=None)
    batch = forms.TypedChoiceField(label="Batch and lot", required=False, coerce=int, empty_value=None)
    region = forms.CharField(label="Region", required=False, max_length=8, help_text="ISO 3166 code, e.g. MY-14")
    outcome = forms.ChoiceField(label="Outcome", required=False)
    source = forms.ChoiceField(label="Source", required=False)
    outside = forms.BooleanField(label="Outside the distributor's territory", required=False)

    def __init__(self, data, *, products, batches):
        super().__init__(data)
        self.fields["product"].choices = [("", "All products"), *((p.pk, str(p)) for p in products)]
        self.fields["batch"].choices = [
            ("", "All batches"),
            *((b.pk, f"#{b.number}, lot {b.lot.number} ({b.product})") for b in batches),
        ]
        self.fields["outcome"].choices = [("", "Any outcome"), *ScanOutcome.choices]
        self.fields["source"].choices = [("", "Any source"), *ScanSource.choices]

    def filter(self, scans):
        """The scans matching the valid filters (invalid ones are ignored, and shown as errors)."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("days"):
            scans = scans.filter(scanned_at__gte=timezone.now() - timedelta(days=int(data["days"])))
        if data.get("q"):
            q = data["q"].strip()
            scans = scans.filter(
                Q(serial__iexact=q) | Q(gtin=q.zfill(14) if q.isdigit() else q) | Q(place__icontains=q)
            )
        for name, lookup in (("product", "product_id"), ("batch", "code__batch_id"), ("outcome", "outcome")):
            if data.get(name):
                scans = scans.filter(**{lookup: data[name]})
        if data.get("source"):
            scans = scans.filter(source=data["source"])
        if data.get("region"):
            scans = queries.in_region(scans, data["region"])
        if data.get("outside"):
            scans = scans.filter(out_of_territory=True)
        return scans


class ReportStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ReportStatus.choices)
