"""Operators and scripts: make an API key for a brand; the key is the last line printed (shown only once)."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from brands.apikeys import ApiKeyError, create_api_key
from brands.models import Brand


class Command(BaseCommand):
    help = "Make an API key for a brand's system; prints the key (only once) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--scopes", required=True, help="comma-separated: read, write, admin, owners, vrs")
        parser.add_argument("--name", default="", help="what uses the key (default: made from the scopes)")
        parser.add_argument("--distributor", type=int, help="a distributor's id: the key sees only its rows")
        parser.add_argument("--partner-gln", default="", help="a trading partner's GLN (13 digits), for vrs")
        parser.add_argument("--expires-days", type=int, help="the key stops working after this many days")

    def handle(self, *args, **options):
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"brand: no brand with slug {options['brand']!r}")
        distributor = None
        if options["distributor"] is not None:
            model = apps.get_model("distributors", "Distributor")  # an app above brands, found by name
            distributor = model.objects.for_brand(brand).filter(pk=options["distributor"]).first()
            if distributor is None:
                raise CommandError(f"distributor: no distributor {options['distributor']} in {brand.slug}")
        try:
            key, raw = create_api_key(
                brand=brand,
                name=options["name"] or f"{options['scopes']} key",
                scopes=options["scopes"],
                distributor=distributor,
                partner_gln=options["partner_gln"],
                expires_days=options["expires_days"],
            )
        except ApiKeyError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stderr.write(f"{brand.slug}: key {key.prefix}… ({', '.join(key.scopes)}) made; it is shown only now.")
        self.stdout.write(raw)
