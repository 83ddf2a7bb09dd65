"""Shared start-up for benchmarks: Django on the DATABASE_URL given, migrated."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://… (a scratch database: the benchmark writes millions of rows).")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_brand(tag: str, gtin: str):
    """A brand for a benchmark: verified for its GTIN's prefix (else no code verifies as authentic) and
    on the unlimited plan (else the trial plan refuses big batches)."""
    from brands.models import Brand, User
    from brands.services import approve_brand_prefix, create_brand

    owner = User.objects.create_user(f"bench-{tag}@example.com", None)
    brand = create_brand(name=f"Bench {tag}", owner=owner)
    Brand.objects.filter(pk=brand.pk).update(plan="unlimited")
    brand.refresh_from_db()
    approve_brand_prefix(brand=brand, prefix=gtin[1:13])  # the whole 12-digit body: never overlaps another
    return brand
