import json

from django import forms

from core.files import clean_image

from .models import (
    MAX_BATCH_QUANTITY,
    IdentifierKind,
    ImportFormat,
    PrintFormat,
    Product,
    ProductLink,
)
from .printing import PrintError, clean_options, clean_range, symbology_problem
from .printing.options import ALL_OPTIONS, OPTIONS, Option
from .serials import MAX_LENGTH
from .services import MAX_GUESS_PROBABILITY, OrderError, clean_gtin, clean_registration_number, frozen_product_fields


class ProductForm(forms.ModelForm):
    identifier_kind = forms.ChoiceField(
        label="Identifier",
        required=False,  # a GTIN when not said
        choices=IdentifierKind.choices,
        initial=IdentifierKind.GTIN,
        widget=forms.RadioSelect,
        help_text="No GS1 Company Prefix? Serialize gives the product a ref of its own (never a GTIN); you can add "
        "a GTIN later, once an operator has approved your prefix, and labels already printed keep verifying.",
    )
    # Wider than the 14 stored digits: people paste GTINs with spaces, which clean_gtin removes.
    gtin = forms.CharField(
        label="GTIN",
        max_length=24,
        required=False,
        help_text="8, 12, 13 or 14 digits with the GS1 check digit; stored as GTIN-14.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "data-gtin": "1", "autocomplete": "off"}),
    )
    serial_length = forms.IntegerField(
        min_value=1,
        max_value=MAX_LENGTH,
        required=False,
        help_text="Leave empty for the default (12 letters/digits, or 13 digits).",
    )
    # Wider than stored: labels print them with spaces ("MAL 19990123 AZ"), which the service removes.
    registration_number = forms.CharField(
        label=Product._meta.get_field("registration_number").verbose_name.capitalize(),
        max_length=24,
        required=False,
        help_text=Product._meta.get_field("registration_number").help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "MAL19990123AZ"}),
    )
    ndc = forms.CharField(
        label="NDC",
        max_length=24,
        required=False,
        help_text=Product._meta.get_field("ndc").help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "12345-678-90"}),
    )

    class Meta:
        model = Product
        fields = [
            "name",
            "variant",
            "identifier_kind",
            "gtin",
            "ndc",
            "registration_number",
            "needs_farmatag",
            "warranty_months",
            "image",
            "serial_alphabet",
            "serial_length",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        product = self.instance
        if product.pk:
            # The kind is chosen once; a product with a ref is upgraded by giving it a GTIN.
            del self.fields["identifier_kind"]
            if product.ref and not product.gtin:
                self.fields["gtin"].help_text = (
                    f"Optional: this product's codes carry its Serialize ref {product.ref}. A GTIN under a prefix "
                    "an operator approved for you makes new labels carry the GS1 Digital Link; labels already "
                    "printed keep verifying."
                )
        if product.pk:
            # Shown as they are: the service refuses to change what printed codes depend on.
            for name in frozen_product_fields(product):
                self.fields[name].disabled = True

    def validate_unique(self):
        """Who may hold a GTIN is the service's rule (a prefix approved for another brand takes it over from a
        mere pending claim), not the column's: the service answers with the reason."""
        try:
            self.instance.validate_unique(exclude=[*self._get_validation_exclusions(), "gtin"])
        except forms.ValidationError as error:
            self._update_errors(error)

    def clean_image(self):
        image = self.cleaned_data.get("image")
        return clean_image(image, keep_alpha=True) if image and hasattr(image, "content_type") else image

    def clean_gtin(self):
        try:
            return clean_gtin(self.cleaned_data["gtin"])  # GTIN-14 before the form compares it with the stored one
        except OrderError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_registration_number(self):
        try:
            return clean_registration_number(self.cleaned_data["registration_number"])
        except OrderError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_ndc(self):
        return "".join(self.cleaned_data["ndc"].split())  # checked against the GTIN by the service

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.pop("identifier_kind", None)
        if kind == IdentifierKind.BRAND_REF:
            if cleaned.get("gtin"):
                self.add_error("gtin", "Leave the GTIN empty for a product without one, or choose GTIN above.")
        elif "gtin" not in self.errors and not cleaned.get("gtin") and not self.instance.ref:
            self.add_error("gtin", "Enter the product's GTIN, or choose “No GTIN” above if you have no GS1 prefix.")
        return cleaned


class BatchOrderForm(forms.Form):
    lot_number = forms.CharField(label="Lot", max_length=20)
    expires_on = forms.DateField(label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    manufactured_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    quantity = forms.IntegerField(min_value=1, max_value=MAX_BATCH_QUANTITY)
    with_pin = forms.BooleanField(label="Add a scratch PIN to every code", required=False)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product

    def guess_probability(self) -> float | None:
        quantity = self.cleaned_data.get("quantity") if self.is_bound and hasattr(self, "cleaned_data") else None
        issued = self.product.next_ordinal + (quantity or 0)
        return min(1.0, issued / self.product.serial_format.space)

    max_guess_probability = MAX_GUESS_PROBABILITY


class SerialImportForm(forms.Form):
    """A file of serials the brand's own systems assigned, for one lot of the product."""

    lot_number = forms.CharField(label="Lot", max_length=20)
    expires_on = forms.DateField(label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    manufactured_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(choices=ImportFormat.choices, initial=ImportFormat.CSV)
    file = forms.FileField(
        label="File of serials",
        help_text="Up to 10,000,000 serials: GS1 AI (21), 1 to 20 characters each, none twice.",
    )


def _option_field(option: Option) -> forms.Field:
    """The form field of a print option: its label, default and what it accepts, from the option itself."""
    common = {"label": option.label, "required": False, "initial": option.default}
    if option.choices:
        if option.default == option.choices[0][0]:
            common["initial"] = None  # a select shows its first choice anyway: only another default is marked
        return forms.ChoiceField(choices=option.choices, **common)
    number = forms.FloatField if option.kind is float else forms.IntegerField
    return number(min_value=option.low, max_value=option.high, **common)


# One field per print option, made from the options (codes/printing/options.py): the one source of both.
PrintOptionFields = type("PrintOptionFields", (forms.Form,), {o.name: _option_field(o) for o in ALL_OPTIONS})


class PrintJobForm(PrintOptionFields):
    """What to print: a format, its options (only those of the chosen format are used) and a range."""

    field_order = ["format", "from_position", "to_position"]  # then the options, as ALL_OPTIONS lists them
    # The page's names for the ends of the range (kept: the page, its scripts and its users know them).
    RANGE_FIELDS = {"first_position": "from_position", "last_position": "to_position"}

    format = forms.ChoiceField(choices=PrintFormat.choices)
    from_position = forms.IntegerField(label="From", required=False, min_value=1, help_text="1 = first code")
    to_position = forms.IntegerField(label="To", required=False, min_value=1, help_text="Empty = last code")

    def __init__(self, *args, batch, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch = batch

    @property
    def options_json(self) -> str:
        """Which option fields each format uses: static/js/print_form.js shows only the chosen format's."""
        return json.dumps({fmt: sorted(option.name for option in options) for fmt, options in OPTIONS.items()})

    def clean(self):
        cleaned = super().clean()
        fmt = cleaned.get("format")
        if not fmt or self.errors:
            return cleaned
        try:
            options = {option.name: cleaned.get(option.name) for option in OPTIONS[fmt]}
            cleaned["options"] = clean_options(fmt, options)
            problem = symbology_problem(self.batch.product, fmt, cleaned["options"])
            if problem:
                raise PrintError(*problem)
            cleaned["first_position"], cleaned["last_position"] = clean_range(
                self.batch, cleaned.get("from_position"), cleaned.get("to_position")
            )
        except PrintError as exc:
            self.add_print_error(exc)
        return cleaned

    def add_print_error(self, exc: PrintError) -> None:
        """Put a print error on the field it names (the range's ends by the page's names), else on the form."""
        field = self.RANGE_FIELDS.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


class ActivateForm(forms.Form):
    """Which positions of a batch were applied: empty for the whole batch."""

    first_position = forms.IntegerField(label="From position", min_value=1, required=False)
    last_position = forms.IntegerField(
        label="To position", min_value=1, required=False, help_text="Leave both empty to activate the whole batch."
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_activate_%s")  # the batch page has other forms with these field names
        super().__init__(*args, **kwargs)


class ProductLinkForm(forms.ModelForm):
    """A link the product's GS1 Digital Link resolves to (rules: codes.links.add_link)."""

    href = forms.URLField(label="Address", max_length=1000, assume_scheme="https")

    class Meta:
        model = ProductLink
        fields = ["link_type", "title", "href", "language", "media_type"]
        labels = {"link_type": "Kind of link"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_link_%s")  # the product page has other forms
        super().__init__(*args, **kwargs)
