"""Operators: move a brand to another plan."""

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from brands.plans import PLANS


class Command(BaseCommand):
    help = "Put a brand on a plan: " + ", ".join(PLANS)

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand slug")
        parser.add_argument("plan", choices=list(PLANS))

    def handle(self, *args, **options):
        if not Brand.objects.filter(slug=options["brand"]).update(plan=options["plan"]):
            slug = options["brand"]
            raise CommandError(f"brand: no brand with slug {slug!r} (python manage.py list_brands lists them)")
        self.stdout.write(self.style.SUCCESS(f"{options['brand']} is on the {PLANS[options['plan']].label} plan."))
