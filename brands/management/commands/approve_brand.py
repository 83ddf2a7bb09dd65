"""Operators: claim and approve a brand's GS1 Company Prefix, or its company registration (brands without a
GS1 prefix), in one step."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from brands import services
from brands.models import Brand
from brands.prefixes import prefix_covers


class Command(BaseCommand):
    help = (
        "Claim and approve a GS1 Company Prefix for a brand (--prefix), or its company registration "
        "(--registration NUMBER --country CC, for brands without a prefix): its codes then verify as authentic."
    )

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--prefix", help="GS1 Company Prefix, 6 to 12 digits")
        what.add_argument("--registration", help="company registration number (brands without a GS1 prefix)")
        parser.add_argument("--country", help="with --registration: country of registration, ISO code (MY)")

    def handle(self, *args, **options):
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"brand: no brand with slug {options['brand']!r}")
        if options["registration"] is not None:
            self.approve_registration(brand, options["registration"], options["country"])
        else:
            self.approve_prefix(brand, options["prefix"].strip())

    def approve_prefix(self, brand, prefix: str) -> None:
        self.refuse_indicator_digit_mixup(brand, prefix)
        try:
            claim = services.approve_brand_prefix(brand=brand, prefix=prefix)
        except services.ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"{brand.slug}: prefix {claim.prefix} approved."))
        for gtin in self.gtins(brand):
            if not services.is_verified_for(brand, gtin):
                self.stdout.write(self.style.WARNING(f"GTIN {gtin} is not under an approved prefix yet."))

    def approve_registration(self, brand, number: str, country: str | None) -> None:
        if not country:
            raise CommandError("country: --registration needs --country, the ISO code of the country (e.g. MY)")
        try:
            claim = services.approve_brand_registration(brand=brand, registration_number=number, country=country)
        except services.ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"{brand.slug}: {claim.claimed} approved."))

    def gtins(self, brand) -> list[str]:
        """The brand's registered GTINs (codes sits above brands, so its model is looked up by name)."""
        products = apps.get_model("codes", "Product").objects.for_brand(brand).filter(gtin__isnull=False)
        return list(products.values_list("gtin", flat=True))

    def refuse_indicator_digit_mixup(self, brand, prefix: str) -> None:
        """'0950600' for GTIN 09506000134352 reads the indicator digit as part of the prefix: say so."""
        gtins = self.gtins(brand)
        if any(prefix_covers(prefix, g) for g in gtins):
            return
        for gtin in gtins:
            if gtin.startswith(prefix):
                meant = gtin[1 : 1 + len(prefix)]
                raise CommandError(
                    f"prefix: {prefix} covers none of {brand.slug}'s GTINs. A GTIN-14 starts with its indicator "
                    f"digit and the GS1 Company Prefix follows it: for {gtin} that is {meant}."
                )
