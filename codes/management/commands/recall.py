"""Recall a lot, a batch (or a range of its positions) or listed serials, in this process; last line is JSON.

python manage.py recall --brand SLUG (--lot LOT --gtin GTIN | --batch ID [--from N --to M]
                                      | --serial S [--serial S ...] --gtin GTIN) --reason TEXT
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from codes import recalls
from codes.gs1 import GS1Error, is_product_ref, normalize_gtin
from codes.models import CodeBatch, Lot, Product


class Command(BaseCommand):
    help = "Recall units of a brand: every code of a lot, of a batch or a range of its positions, or listed serials."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--gtin", help="with --lot or --serial (a product without a GTIN: its product ref)")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--lot", help="lot number (needs --gtin)")
        scope.add_argument("--batch", type=int, help="batch id")
        scope.add_argument("--serial", action="append", help="a serial (repeat for more; needs --gtin)")
        parser.add_argument("--from", type=int, dest="first_position", help="first position in the batch (1-based)")
        parser.add_argument("--to", type=int, dest="last_position", help="last position in the batch (inclusive)")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--message", default="", help="shown to consumers on the verify page")

    def handle(self, *args, **options):
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"brand: no brand with slug {options['brand']!r}")
        if (options["first_position"] or options["last_position"]) and not options["batch"]:
            raise CommandError("--from/--to: only with --batch")
        started = time.perf_counter()
        try:
            change = recalls.recall(
                brand=brand,
                reason=options["reason"],
                consumer_message=options["message"],
                enqueue=False,
                **self.scope(brand, options),
            )
        except recalls.ChangeError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        change = recalls.apply_change(change.pk)
        seconds = round(time.perf_counter() - started, 3)
        self.stderr.write(f"{change}: {change.codes_changed:,} of {change.quantity:,} codes recalled in {seconds} s")
        self.stdout.write(json.dumps({"recall": change.pk, "codes": change.codes_changed}))

    def scope(self, brand, options) -> dict:
        if options["batch"]:
            batch = CodeBatch.objects.for_brand(brand).select_related("product").filter(pk=options["batch"]).first()
            if batch is None:
                raise CommandError(f"batch: brand {brand.slug} has no batch {options['batch']}")
            return {
                "batch": batch,
                "first_position": options["first_position"],
                "last_position": options["last_position"],
            }
        product = self.product(brand, options["gtin"])
        if options["lot"]:
            lot = Lot.objects.filter(product=product, number=options["lot"]).select_related("product").first()
            if lot is None:
                raise CommandError(f"lot: {product.gtin} has no lot {options['lot']!r}")
            return {"lot": lot}
        return {"product": product, "serials": options["serial"]}

    def product(self, brand, gtin) -> Product:
        if not gtin:
            raise CommandError("gtin: --gtin is needed with --lot and --serial")
        if is_product_ref(gtin):  # a product without a GTIN is named by its Serialize product ref
            product = Product.objects.for_brand(brand).filter(ref=gtin).first()
            if product is None:
                raise CommandError(f"gtin: brand {brand.slug} has no product {gtin}")
            return product
        try:
            gtin = normalize_gtin(gtin)
        except GS1Error as exc:
            raise CommandError(f"gtin: {exc}") from exc
        product = Product.objects.for_brand(brand).filter(gtin=gtin).first()
        if product is None:
            raise CommandError(f"gtin: brand {brand.slug} has no product {gtin}")
        return product
