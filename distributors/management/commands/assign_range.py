"""Give positions of a batch to a distributor from a shell; refused ranges write nothing and exit non-zero."""

from django.core.management.base import BaseCommand, CommandError

from codes.models import CodeBatch
from distributors import services
from distributors.models import Distributor


class Command(BaseCommand):
    help = "Assign the positions --from N --to M (1-based, inclusive) of a batch to the distributor --distributor CODE."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--distributor", required=True, help="the distributor's code in the batch's brand")
        parser.add_argument("--from", type=int, required=True, dest="first_position", help="first position (1-based)")
        parser.add_argument("--to", type=int, required=True, dest="last_position", help="last position (inclusive)")
        parser.add_argument("--shipment", default="", help="optional shipment reference")

    def handle(self, *args, **options):
        batch = CodeBatch.objects.select_related("product").filter(pk=options["batch_id"]).first()
        if batch is None:
            raise CommandError(f"batch_id: no batch {options['batch_id']}.")
        code = options["distributor"].strip().upper()
        distributor = Distributor.objects.for_brand(batch.product.brand_id).filter(code=code).first()
        if distributor is None:
            raise CommandError(f"--distributor: the batch's brand has no distributor {code}.")
        try:
            assignment = services.assign_range(
                batch=batch,
                distributor=distributor,
                first_position=options["first_position"],
                last_position=options["last_position"],
                shipment_reference=options["shipment"],
            )
        except services.DistributorError as exc:
            name = {"first_position": "--from", "last_position": "--to"}.get(exc.field, exc.field)
            raise CommandError(f"{name}: {exc.message}") from None
        self.stdout.write(
            f"Assigned positions {assignment.first_position:,}–{assignment.last_position:,} of batch {batch.pk} "
            f"to {distributor.name} ({distributor.code})."
        )
