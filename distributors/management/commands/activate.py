"""Activate units from a shell or a packaging line's script: a batch, a range of its positions, or a carton.

python manage.py activate --brand SLUG (--batch ID [--from N --to M] | --sscc SSCC) [--reason TEXT]

Their codes go live (verify as authentic) from now on; until then they answer "not yet activated". Here, not in
`codes`, because a carton is the distributors app's; the rule itself is `codes.activation.activate`. The last
line is JSON.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from codes import activation, recalls
from codes.models import CodeBatch
from distributors.models import Carton


class Command(BaseCommand):
    help = "Activate a batch, positions --from N --to M (1-based, inclusive) of it, or a carton (--sscc)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--batch", type=int, help="batch id")
        scope.add_argument("--sscc", help="a carton's SSCC (18 digits)")
        parser.add_argument("--from", type=int, dest="first_position", help="first position in the batch (1-based)")
        parser.add_argument("--to", type=int, dest="last_position", help="last position in the batch (inclusive)")
        parser.add_argument("--reason", default=activation.APPLIED, help="for the audit trail")

    def handle(self, *args, **options):
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"brand: no brand with slug {options['brand']!r}")
        if (options["first_position"] or options["last_position"]) and not options["batch"]:
            raise CommandError("--from/--to: only with --batch")
        batch, first, last, reason = self.scope(brand, options)
        try:
            change = activation.activate(
                brand=brand, batch=batch, first_position=first, last_position=last, reason=reason, enqueue=False
            )
        except recalls.ChangeError as exc:
            name = {"first_position": "--from", "last_position": "--to"}.get(exc.field, exc.field)
            raise CommandError(f"{name}: {exc.message}") from None
        activated = change.codes_changed if change else 0
        self.stderr.write(
            f"{activated:,} units of batch {batch.pk} activated" + ("" if change else ": all live already")
        )
        self.stdout.write(
            json.dumps({"batch": batch.pk, "change": change.pk if change else None, "activated": activated})
        )

    def scope(self, brand, options) -> tuple[CodeBatch, int | None, int | None, str]:
        if options["sscc"]:
            carton = (
                Carton.objects.for_brand(brand).select_related("batch__product").filter(sscc=options["sscc"]).first()
            )
            if carton is None:
                raise CommandError(f"sscc: brand {brand.slug} has no carton {options['sscc']}")
            reason = (
                options["reason"]
                if options["reason"] != activation.APPLIED
                else f"Carton {carton.sscc}: labels applied"
            )
            return carton.batch, carton.first_position, carton.last_position, reason
        batch = CodeBatch.objects.for_brand(brand).select_related("product").filter(pk=options["batch"]).first()
        if batch is None:
            raise CommandError(f"batch: brand {brand.slug} has no batch {options['batch']}")
        return batch, options["first_position"], options["last_position"], options["reason"]
