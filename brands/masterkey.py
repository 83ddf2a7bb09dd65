"""Is MASTER_KEY the key this database's brand keys are sealed under? And moving them to a new one.

A wrong MASTER_KEY used to surface as a 500 on every verify of a registered GTIN while /healthz said ok.
A known value sealed under the key (the KeyCheck row) lets start-up and /healthz tell at once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from . import keyring
from .models import BrandKey, KeyCheck

log = logging.getLogger(__name__)

CHECK_PLAINTEXT = b"serialize master key check v1"
CHECK_AD = b"serialize-key-check"


class MasterKeyError(Exception):
    pass


def _master(text: str | None = None) -> bytes:
    return keyring.parse_master_key(settings.MASTER_KEY if text is None else text)


def verify_master_key() -> None:
    """Raise MasterKeyError unless MASTER_KEY opens this database's key-check value.

    A database without one (new, or from before the check existed) gets one, once a brand key is seen to
    open under this MASTER_KEY: the check never records a wrong key.
    """
    try:
        master = _master()
    except keyring.KeyringError as exc:
        raise MasterKeyError(str(exc)) from exc
    check = KeyCheck.objects.order_by("pk").first()
    if check is not None:
        _open(master, bytes(check.sealed), CHECK_AD, "the database's key-check value")
        return
    brand_key = BrandKey.objects.order_by("pk").first()
    if brand_key is not None:
        _open(master, bytes(brand_key.sealed), BrandKey.associated_data(brand_key.brand_id), "brand keys")
    KeyCheck.objects.create(sealed=keyring.seal(master, CHECK_PLAINTEXT, CHECK_AD))


def _open(master: bytes, sealed: bytes, ad: bytes, what: str) -> bytes:
    try:
        return keyring.unseal(master, sealed, ad)
    except keyring.KeyringError as exc:
        raise MasterKeyError(
            f"MASTER_KEY does not open {what}: this is not the key this database was sealed with. "
            "Set MASTER_KEY to the key you backed up (or rotate with `manage.py rotate_master_key`)."
        ) from exc


def master_key_state() -> str:
    """'ok', or 'fail' for /healthz (the reason goes to the log, not to the caller)."""
    try:
        verify_master_key()
    except MasterKeyError as exc:
        log.error("master key check failed", extra={"reason": str(exc)})
        return "fail"
    return "ok"


@transaction.atomic
def rotate_master_key(new_key_text: str) -> int:
    """Re-seal every brand key (and the key check) under a new master key in one transaction, checking
    each re-sealed key opens to the same bytes before anything commits. Returns the number of brand keys."""
    old, new = _master(), _master(new_key_text)
    verify_master_key()
    keys = list(BrandKey.objects.select_for_update().order_by("pk"))
    secrets_by_pk = {}
    for key in keys:
        ad = BrandKey.associated_data(key.brand_id)
        secrets_by_pk[key.pk] = _open(old, bytes(key.sealed), ad, f"brand key {key.pk}")
        BrandKey.objects.filter(pk=key.pk).update(sealed=keyring.seal(new, secrets_by_pk[key.pk], ad))
    KeyCheck.objects.all().delete()
    KeyCheck.objects.create(sealed=keyring.seal(new, CHECK_PLAINTEXT, CHECK_AD))
    for key in BrandKey.objects.filter(pk__in=secrets_by_pk):  # read back what will commit
        if keyring.unseal(new, bytes(key.sealed), BrandKey.associated_data(key.brand_id)) != secrets_by_pk[key.pk]:
            raise MasterKeyError(f"brand key {key.pk} did not re-seal correctly; nothing was changed.")
    return len(keys)
