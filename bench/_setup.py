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
