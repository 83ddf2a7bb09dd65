from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.validators import FileExtensionValidator

from core.errors import ServiceError
from core.files import clean_image

from .models import BRAND_ROLES, Activation, ApiKey, ApiKeyScope, Brand, Invitation, Role, User, normalise_email
from .services import clean_name


def no_control_characters(value: str) -> None:
    """The names rule (brands.services.clean_name) at the edge: the form says it beside the field."""
    try:
        clean_name(value)
    except ServiceError as exc:
        raise forms.ValidationError(exc.message) from exc


class SignupForm(forms.Form):
    """Step one: where to send the link. Whether the address has an account is never said here."""

    email = forms.EmailField(label="E-mail address", max_length=254)
    brand_name = forms.CharField(label="Brand name", max_length=120, validators=[no_control_characters])

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])


class ChoosePasswordForm(forms.Form):
    """Step two, from the e-mailed link: the password, checked by the site's password validators."""

    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first, User(email=self.email))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class InvitedSignupForm(BaseUserCreationForm):
    """Sign-up for someone who was invited: the address is the invited one, no brand is created."""

    class Meta:
        model = User
        fields = ["email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].disabled = True


class BrandForm(forms.ModelForm):
    privacy_notice_url = forms.URLField(
        label="Privacy notice",
        required=False,
        assume_scheme="https",
        help_text=Brand._meta.get_field("privacy_notice_url").help_text,
    )

    class Meta:
        model = Brand
        fields = [
            "name",
            "logo",
            "colour",
            "consumer_message",
            "privacy_notice_url",
            "require_two_factor",
            "two_factor_for_operators",
            "activation",
            "gln",
        ]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "activation": forms.RadioSelect,
            "gln": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        }
        labels = {"consumer_message": "Message to consumers", "gln": "Your GLN"}
        help_texts = {
            "activation": "Until then a code answers “not yet activated” on the verify page. You can always "
            "activate a batch, a range or a carton yourself from its batch page.",
            "gln": "13 digits: the responderGLN of every answer to a trading partner's verification request.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activation"].required = False  # a form without it (a new brand) keeps the current choice

    def clean_name(self):
        name = self.cleaned_data["name"]
        no_control_characters(name)
        return name

    def clean_activation(self):
        return self.cleaned_data.get("activation") or self.instance.activation or Activation.APPLIED

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        # Only a new upload is re-encoded; the stored logo comes back as a FieldFile when unchanged.
        return clean_image(logo, keep_alpha=True) if logo and hasattr(logo, "content_type") else logo


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]

    def clean(self):
        for name in self.Meta.fields:
            value = self.cleaned_data.get(name) or ""
            try:
                no_control_characters(value)
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        return self.cleaned_data


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role"]

    def __init__(self, *args, may_make_owners: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Distributor people are invited from their distributor's page; only owners make owners.
        self.fields["role"].choices = [c for c in BRAND_ROLES if may_make_owners or c[0] != Role.OWNER]


class PasswordConfirmationForm(forms.Form):
    """Destructive actions ask for the password again: a session left open is not consent."""

    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password, to confirm.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class BrandDeletionForm(PasswordConfirmationForm):
    confirm_slug = forms.CharField(label="Brand short name", max_length=60)
    field_order = ["confirm_slug", "password"]


class PrefixClaimForm(forms.Form):
    prefix = forms.CharField(
        label="GS1 Company Prefix",
        max_length=16,
        help_text="6 to 12 digits, from your GS1 licence: the digits after a GTIN-14's first (indicator) digit.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    evidence = forms.FileField(
        required=False,
        help_text="Your GS1 licence or membership certificate (PDF, PNG or JPEG, up to 5 MB).",
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg"])],
    )

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence")
        if evidence and evidence.size > 5 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return evidence


class RegistrationClaimForm(forms.Form):
    """A brand without a GS1 prefix: its company registration, with the certificate for the operators."""

    registration_number = forms.CharField(
        label="Company registration number",
        max_length=40,
        help_text="As on your certificate of incorporation or business registration (e.g. SSM number).",
    )
    country = forms.CharField(
        label="Country of registration",
        max_length=2,
        min_length=2,
        help_text="Two-letter ISO code, e.g. MY.",
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": "3"}),
    )
    evidence = forms.FileField(
        label="Registration certificate",
        help_text="PDF, PNG or JPEG, up to 5 MB.",
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg"])],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "registration_%s")  # shown next to the prefix form: ids must differ
        super().__init__(*args, **kwargs)

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence")
        if evidence and evidence.size > 5 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return evidence


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ApiKeyForm(forms.Form):
    """A key for one of the brand's systems; the rules (scopes that go together, a partner's GLN, the expiry's
    range) are brands.apikeys.create_api_key's, which the view calls."""

    name = forms.CharField(
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="The system that will use it, e.g. ERP or packaging line 2.",
        validators=[no_control_characters],
    )
    scopes = forms.MultipleChoiceField(choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple)
    distributor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="None: the whole brand",
        help_text="A distributor's key sees only what its people see in the portal (read, and write to receive).",
    )
    partner_gln = forms.CharField(
        label="Trading partner's GLN",
        max_length=13,
        required=False,
        help_text="13 digits; needed for the verification-requests scope.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)", required=False, min_value=1, max_value=3650, help_text="Empty: never."
    )

    def __init__(self, *args, distributors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["distributor"].queryset = distributors  # type: ignore[attr-defined]  # a ModelChoiceField
