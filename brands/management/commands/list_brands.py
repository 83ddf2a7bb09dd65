"""Operators: every brand's short name (slug, what set_plan and approve_brand take), name, plan and claim state."""

from django.core.management.base import BaseCommand

from brands.models import Brand
from brands.services import NOT_CLAIMED, verification_states

STATES = ["not_claimed", "pending", "approved", "rejected"]


class Command(BaseCommand):
    help = "List brands: slug, name, plan and GS1 prefix claim state (tab-separated, newest first)"

    def add_arguments(self, parser):
        parser.add_argument("--state", choices=STATES, help="only brands whose claim is in this state")

    def handle(self, *args, **options):
        states = verification_states()
        self.stdout.write("slug\tname\tplan\tclaim")
        for brand_id, slug, name, plan in Brand.objects.order_by("-created_at", "-pk").values_list(
            "pk", "slug", "name", "plan"
        ):
            state = states.get(brand_id, NOT_CLAIMED)
            if options["state"] in (None, state):
                self.stdout.write(f"{slug}\t{name}\t{plan}\t{state}")
