"""Re-seal every brand key under a new MASTER_KEY, in one transaction, verified before commit."""

import os

from django.core.management.base import BaseCommand, CommandError

from brands import keyring
from brands.masterkey import MasterKeyError, rotate_master_key


class Command(BaseCommand):
    help = (
        "Re-seal every brand's serial key under NEW_MASTER_KEY (read from the environment, so it stays out of "
        "the shell history). Then set MASTER_KEY to it everywhere and restart web and workers."
    )

    def handle(self, *args, **options):
        new_key = os.environ.get("NEW_MASTER_KEY", "")
        try:
            keyring.parse_master_key(new_key)
        except keyring.KeyringError as exc:
            raise CommandError(f"NEW_MASTER_KEY: {exc}") from exc
        try:
            count = rotate_master_key(new_key)
        except (MasterKeyError, keyring.KeyringError) as exc:
            raise CommandError(f"nothing changed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} brand keys re-sealed under the new key. Set MASTER_KEY to it and restart web and workers."
            )
        )
