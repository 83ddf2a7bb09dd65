# Links a product's GS1 Digital Link resolves to (GS1 link types: leaflet, product page, recall status ...).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("codes", "0015_product_regulator"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "link_type",
                    models.CharField(
                        choices=[
                            ("pip", "Product Information Page (gs1:pip)"),
                            ("epil", "Electronic Patient Information Leaflet (gs1:epil)"),
                            ("instructions", "Instructions (gs1:instructions)"),
                            ("quickStartGuide", "Quick start guide (gs1:quickStartGuide)"),
                            ("safetyInfo", "Safety information (gs1:safetyInfo)"),
                            ("recallStatus", "Recall status (gs1:recallStatus)"),
                            ("registryEntry", "Entry in a register (gs1:registryEntry)"),
                            ("smpc", "Summary Product Characteristics (SmPC) (gs1:smpc)"),
                            ("eifu", "Electronic Instructions For Use (gs1:eifu)"),
                            ("ingredientsInfo", "Ingredients information (gs1:ingredientsInfo)"),
                            ("allergenInfo", "Allergen information (gs1:allergenInfo)"),
                            ("nutritionalInfo", "Nutritional Information (gs1:nutritionalInfo)"),
                            ("support", "Support (gs1:support)"),
                            ("faqs", "Frequently Asked Questions (gs1:faqs)"),
                            ("registerProduct", "Register purchase (gs1:registerProduct)"),
                            ("certificationInfo", "Certification Information (gs1:certificationInfo)"),
                            ("sustainabilityInfo", "Sustainability and recycling (gs1:sustainabilityInfo)"),
                            ("relatedVideo", "Related  video (gs1:relatedVideo)"),
                            ("homepage", "Organisation Information Page (gs1:homepage)"),
                        ],
                        max_length=40,
                    ),
                ),
                ("href", models.URLField(max_length=1000, verbose_name="address")),
                ("title", models.CharField(max_length=200)),
                (
                    "language",
                    models.CharField(
                        blank=True, help_text="The page's language, e.g. en, ms or en-GB; empty for any.", max_length=5
                    ),
                ),
                (
                    "media_type",
                    models.CharField(
                        blank=True,
                        help_text="What the address serves, e.g. text/html or application/pdf.",
                        max_length=100,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="links", to="codes.product"
                    ),
                ),
            ],
            options={
                "ordering": ["link_type", "language", "pk"],
            },
        ),
    ]
