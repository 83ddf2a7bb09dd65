from django import forms
from django.utils import timezone

from . import gs1
from .models import ALPHABETS, DEFAULT_LENGTHS, MAX_BATCH_QUANTITY, Product, SerialAlphabet
from .serials import MAX_LENGTH, SerialFormat
from .services import MAX_GUESS_PROBABILITY


class ProductForm(forms.ModelForm):
    serial_length = forms.IntegerField(
        min_value=1,
        max_value=MAX_LENGTH,
        required=False,
        help_text="Leave empty for the default (12 letters/digits, or 13 digits).",
    )

    class Meta:
        model = Product
        fields = ["name", "variant", "gtin", "ndc", "image", "serial_alphabet", "serial_length"]
        widgets = {"gtin": forms.TextInput(attrs={"inputmode": "numeric", "data-gtin": "1", "autocomplete": "off"})}
        help_texts = {"gtin": "8, 12, 13 or 14 digits with the GS1 check digit; stored as GTIN-14."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.next_ordinal:
            # Codes already printed depend on these: changing them would orphan every label.
            for name in ("gtin", "serial_alphabet", "serial_length"):
                self.fields[name].disabled = True

    def clean_gtin(self):
        try:
            gtin = gs1.normalize_gtin(self.cleaned_data["gtin"])
        except gs1.GS1Error as exc:
            raise forms.ValidationError(exc.message) from exc
        if Product.objects.filter(gtin=gtin).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This GTIN is already registered. A GTIN belongs to one brand owner.")
        return gtin

    def clean(self):
        cleaned = super().clean()
        alphabet = cleaned.get("serial_alphabet")
        if alphabet:
            length = cleaned.get("serial_length") or DEFAULT_LENGTHS[SerialAlphabet(alphabet)]
            cleaned["serial_length"] = length
            try:
                SerialFormat(ALPHABETS[SerialAlphabet(alphabet)], length)
            except ValueError:
                self.add_error("serial_length", "Too short: serials need at least a million possible values.")
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

    def clean_lot_number(self):
        try:
            return gs1.validate_lot(self.cleaned_data["lot_number"].strip())
        except gs1.GS1Error as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on and expires_on < timezone.localdate():
            raise forms.ValidationError("The expiry date is in the past.")
        return expires_on

    def guess_probability(self) -> float | None:
        quantity = self.cleaned_data.get("quantity") if self.is_bound and hasattr(self, "cleaned_data") else None
        issued = self.product.next_ordinal + (quantity or 0)
        return min(1.0, issued / self.product.serial_format.space)

    max_guess_probability = MAX_GUESS_PROBABILITY
