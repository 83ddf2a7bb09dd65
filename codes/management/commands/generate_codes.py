"""Order and generate a batch in this process, for operators and scripts; last line is JSON."""

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from brands.models import Brand
from codes import activation, services
from codes.gs1 import GS1Error, normalize_gtin
from codes.models import DEFAULT_LENGTHS, Product, SerialAlphabet


class Command(BaseCommand):
    help = "Generate a batch of codes for a brand's product (creates the lot if needed)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("--gtin", required=True)
        parser.add_argument("--lot", required=True)
        parser.add_argument("--expiry", help="YYYY-MM-DD")
        parser.add_argument("--quantity", required=True, type=int)
        parser.add_argument("--format", choices=[c.value for c in SerialAlphabet], dest="alphabet")
        parser.add_argument("--length", type=int)
        parser.add_argument("--pin", action="store_true", help="add a scratch PIN to every code")
        parser.add_argument(
            "--activate",
            action="store_true",
            help="activate every code once generated (labels already applied); by default codes verify as "
            "'not yet activated' until their units are activated",
        )

    def handle(self, *args, **options):
        expires_on = _date(options["expiry"])
        started = time.perf_counter()
        try:
            with transaction.atomic():  # a refused order leaves nothing behind, not even its new lot
                product = self.product(options)
                batch = services.order_batch_in_lot(
                    product=product,
                    lot_number=options["lot"],
                    expires_on=expires_on,
                    quantity=options["quantity"],
                    with_pin=options["pin"],
                    enqueue=False,
                )
        except services.OrderError as exc:
            raise CommandError(f"{ARGUMENTS.get(exc.field, exc.field)}: {exc.message}") from exc
        batch = services.generate_batch(batch.pk)
        if options["activate"]:
            activation.activate(
                brand=product.brand, batch=batch, reason="Labels applied (generate_codes --activate)", enqueue=False
            )
            batch.refresh_from_db()
        seconds = round(time.perf_counter() - started, 3)
        self.stdout.write(
            json.dumps(
                {
                    "batch": batch.pk,
                    "quantity": batch.codes_done,
                    "activated": batch.codes_activated,
                    "seconds": seconds,
                }
            )
        )

    def product(self, options) -> Product:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"brand: no brand with slug {options['brand']!r}")
        try:
            gtin = normalize_gtin(options["gtin"])
        except GS1Error as exc:
            raise CommandError(f"gtin: {exc.message}") from exc
        product = Product.objects.for_brand(brand).filter(gtin=gtin).first()
        if product is None:
            raise CommandError(f"gtin: brand {brand.slug} has no product with GTIN {gtin}")
        return self.apply_format(product, options["alphabet"], options["length"])

    def apply_format(self, product: Product, alphabet: str | None, length: int | None) -> Product:
        """A product's serial format may be chosen until its first codes exist (the service refuses after)."""
        if alphabet is None and length is None:
            return product
        alphabet = alphabet or product.serial_alphabet
        length = length or (product.serial_length if alphabet == product.serial_alphabet else DEFAULT_LENGTHS[alphabet])
        return services.update_product(product=product, changes={"serial_alphabet": alphabet, "serial_length": length})


# The service's names for what is wrong, as this command's arguments.
ARGUMENTS = {"serial_alphabet": "format", "serial_length": "length"}


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise CommandError("expiry: give the date as YYYY-MM-DD.") from exc
