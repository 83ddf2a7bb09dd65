# Products carry their regulators' identifiers: an NPRA number (MAL…/NOT…), the FarmaTag flag, and the NDC made
# consistent with the GTIN it lives in (codes.regulators): a stored NDC that the GTIN contradicts is dropped.

import re

from django.db import migrations, models

SPLITS = {(4, 4, 2), (5, 3, 2), (5, 4, 1)}


def ndc_from_the_gtin(apps, schema_editor):
    """The NDC is the GTIN's (`003` + 10 digits + check): keep a typed labeler-product-package form of those
    digits, drop anything else (plain digits say no more than the GTIN; other values contradict it)."""
    Product = apps.get_model("codes", "Product")
    for product in Product.objects.exclude(ndc="").only("pk", "gtin", "ndc").iterator():
        typed = re.sub(r"\s+", "", product.ndc)
        gtin = product.gtin or ""
        digits = gtin[3:13] if len(gtin) == 14 and gtin.startswith("003") else None
        parts = typed.split("-")
        keep = digits is not None and typed.replace("-", "") == digits and tuple(map(len, parts)) in SPLITS
        Product.objects.filter(pk=product.pk).update(ndc=typed if keep else "")


class Migration(migrations.Migration):
    dependencies = [
        ("codes", "0013_serial_imports"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="needs_farmatag",
            field=models.BooleanField(
                default=False,
                help_text="Registered in Malaysia (MAL…) and required to carry the Ministry of Health's FarmaTag "
                "security label: the verify page tells consumers to check that label too.",
                verbose_name="must carry the FarmaTag",
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="registration_number",
            field=models.CharField(
                blank=True,
                help_text="Malaysia: the MAL… registration number of a medicine, traditional product or supplement, "
                "or the NOT… notification number of a cosmetic, as printed on the pack.",
                max_length=16,
                verbose_name="NPRA registration or notification number",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="ndc",
            field=models.CharField(
                blank=True,
                help_text="US drugs only (GTIN starting 003): the NDC inside the GTIN as your label writes it, e.g. "
                "12345-678-90. Left empty, its 10 digits are shown.",
                max_length=12,
                verbose_name="NDC",
            ),
        ),
        migrations.RunPython(ndc_from_the_gtin, migrations.RunPython.noop, elidable=True),
    ]
