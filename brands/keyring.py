"""Brand serial keys sealed under the platform MASTER_KEY with AES-256-GCM (no Django imports).

The brand id is the associated data, so a sealed key copied onto another brand
fails to open instead of silently serving the wrong tenant.
"""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyringError(Exception):
    """The master key is malformed, or a sealed key does not open under it."""


def parse_master_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise KeyringError("MASTER_KEY must be 32 bytes, base64-encoded.") from exc
    if len(key) != KEY_BYTES:
        raise KeyringError("MASTER_KEY must be 32 bytes, base64-encoded.")
    return key


def new_brand_key() -> bytes:
    return os.urandom(KEY_BYTES)


def seal(master_key: bytes, brand_key: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, brand_key, associated_data)


def unseal(master_key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return AESGCM(master_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError) as exc:
        raise KeyringError("A brand key does not open under this MASTER_KEY.") from exc
