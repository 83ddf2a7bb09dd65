"""Demo data for a first look: idempotent, and each feature adds its part."""

import secrets
from datetime import date

from django.core.management.base import BaseCommand
from django.db import transaction

from brands import services
from brands.models import Brand, Membership, Role, User

DEMO_EMAIL = "owner@demo.example"
DEMO_GTIN = "09506000134352"  # GS1's own example GTIN
DISTRIBUTOR_EMAIL = "distributor@demo.example"
# (code, name, territory, first and last position of the demo batch)
DEMO_DISTRIBUTORS = [
    ("KL-SEL", "Lembah Klang Wholesale", "MY-14, MY-10", 1, 400),
    ("JHR", "Johor Health Supplies", "MY-01", 401, 700),
]
# (GS1 link type, address, title, language, media type) of the demo product, for the resolver.
DEMO_LINKS = [
    ("gs1:pip", "https://demo.example/vitamin-c", "Vitamin C 1000 mg", "en", "text/html"),
    ("gs1:epil", "https://demo.example/vitamin-c/leaflet-en.pdf", "Leaflet", "en", "application/pdf"),
    ("gs1:epil", "https://demo.example/vitamin-c/leaflet-ms.pdf", "Risalah", "ms", "application/pdf"),
    ("gs1:recallStatus", "https://demo.example/recalls", "Recall status", "", "text/html"),
]
# Its GS1 Company Prefix: the digits after the GTIN-14's indicator digit (0), as GS1 assigns them.
DEMO_PREFIX = "9506000"


class Command(BaseCommand):
    help = "Create (or top up) the demo brand 'demo' with its owner, products and a ready batch."

    def handle(self, *args, **options):
        with transaction.atomic():
            brand, password = self.demo_brand()
        self.seed_codes(brand)
        distributor_password = self.seed_distributors(brand)
        self.seed_scans()
        self.say_login("Demo owner", DEMO_EMAIL, password)
        self.say_login("Demo distributor (Kuala Lumpur and Selangor)", DISTRIBUTOR_EMAIL, distributor_password)

    def say_login(self, who: str, email: str, password: str | None) -> None:
        if password:
            self.stdout.write(self.style.SUCCESS(f"{who}: {email} / {password}"))
        else:
            self.stdout.write(f"{who}: {email} (password unchanged; reset it with `changepassword`)")

    def demo_brand(self) -> tuple[Brand, str | None]:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(DEMO_EMAIL, password, first_name="Demo", last_name="Owner")
        brand = Brand.objects.filter(slug="demo").first()
        if brand is None:
            brand = services.create_brand(name="Demo Nutrition", owner=user, slug="demo")
        Membership.objects.get_or_create(user=user, brand=brand, defaults={"role": Role.OWNER})
        # The README's examples order and verify freely: the demo is a verified brand on no quota.
        Brand.objects.filter(pk=brand.pk).update(plan="unlimited")
        if not services.is_verified_for(brand, DEMO_GTIN):
            services.approve_brand_prefix(brand=brand, prefix=DEMO_PREFIX)
        brand.refresh_from_db()
        return brand, password

    def seed_codes(self, brand: Brand) -> None:
        """A product with GS1's example GTIN and a ready batch of 1,000 codes."""
        from codes import activation
        from codes import services as code_services
        from codes.models import Product

        product = Product.objects.filter(gtin=DEMO_GTIN).first()
        if product is None:
            product = code_services.create_product(
                brand=brand,
                name="Vitamin C 1000 mg",
                variant="orange",
                gtin=DEMO_GTIN,
                serial_alphabet="alnum",
                serial_length=12,
            )
        if not product.batches.exists():
            lot = code_services.get_or_create_lot(product=product, number="L2026A", expires_on=date(2028, 12, 31))
            batch = code_services.order_batch(product=product, lot=lot, quantity=1_000, enqueue=False)
            code_services.generate_batch(batch.pk)
        # The demo's labels are on its products: its codes are live (a repeat finds nothing left to activate).
        batch = product.batches.order_by("pk").first()
        activation.activate(brand=brand, batch=batch, reason="Demo: labels applied", enqueue=False)
        self.seed_links(product)
        self.seed_print_files(product)

    def seed_links(self, product) -> None:
        """What the demo's Digital Link resolves to for GS1 tools: its product page, leaflets in two languages."""
        from codes import links

        if product.links.exists():
            return
        for link_type, href, title, language, media_type in DEMO_LINKS:
            links.add_link(
                product=product, link_type=link_type, href=href, title=title, language=language, media_type=media_type
            )

    def seed_print_files(self, product) -> None:
        """The demo batch's CSV for the line printer, rendered here like a worker would."""
        from codes import printing
        from codes.models import PrintJob

        batch = product.batches.order_by("pk").first()
        if PrintJob.objects.filter(batch=batch).exists():
            return
        printing.render_job_here(printing.create_print_job(batch=batch, fmt="csv", enqueue=False))

    def seed_scans(self) -> None:
        """30 days of consumer scans of the demo batch, a copied label, fakes and counterfeit reports."""
        from codes.models import Product
        from scans.demo import seed_scans

        added = seed_scans(batch=Product.objects.get(gtin=DEMO_GTIN).batches.order_by("pk").first())
        if added:
            self.stdout.write(f"Demo scans: {added} over the last 30 days.")

    def seed_distributors(self, brand: Brand) -> str | None:
        """Two distributors with ranges of the demo batch, and a login for the first one."""
        from codes.models import Product
        from distributors import services as distributor_services
        from distributors.models import Distributor

        batch = Product.objects.get(gtin=DEMO_GTIN).batches.order_by("pk").first()
        for code, name, territory, first, last in DEMO_DISTRIBUTORS:
            distributor = Distributor.objects.for_brand(brand).filter(code=code).first()
            if distributor is None:
                distributor = distributor_services.create_distributor(
                    brand=brand, name=name, code=code, territory=territory
                )
                distributor_services.assign_range(
                    batch=batch, distributor=distributor, first_position=first, last_position=last
                )
        holder = Distributor.objects.for_brand(brand).get(code=DEMO_DISTRIBUTORS[0][0])
        user, password = User.objects.filter(email=DISTRIBUTOR_EMAIL).first(), None
        if user is None:
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(DISTRIBUTOR_EMAIL, password, first_name="Demo", last_name="Distributor")
        Membership.objects.get_or_create(
            user=user, brand=brand, defaults={"role": Role.DISTRIBUTOR, "distributor": holder}
        )
        return password
