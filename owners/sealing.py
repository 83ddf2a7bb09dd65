"""Owners' contact details sealed at rest (no Django imports): AES-256-GCM under a key derived with HKDF-SHA256
from the brand's key for the purpose "owners", so the serial key itself never encrypts personal data and a
database copy without MASTER_KEY holds only ciphertext. The associated data binds a blob to its brand and unit:
moved onto another registration, it fails to open.

To find an owner's registrations by e-mail without opening every blob, each registration keeps a blind index:
an HMAC-SHA256 of the normalised address under another key derived from the same brand key ("lookup"), so the
index of one address differs from brand to brand and reveals nothing without MASTER_KEY."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PURPOSE = b"serialize:owners:contact:v1"
LOOKUP_PURPOSE = b"serialize:owners:lookup:v1"
NONCE_BYTES = 12


class SealError(Exception):
    """A sealed contact that does not open under this key (another brand's, another unit's, or tampered)."""


@dataclass(frozen=True)
class Contact:
    """Who registered a unit. Its repr names no field: a contact must never reach a log line."""

    name: str
    email: str = ""
    phone: str = ""

    def __repr__(self) -> str:
        return "<Contact (hidden)>"

    __str__ = __repr__

    def same_person(self, other: Contact) -> bool:
        """The same address or number (an owner who registers again is not a second owner)."""
        return bool(
            (self.email and self.email.casefold() == other.email.casefold())
            or (self.phone and _digits(self.phone) == _digits(other.phone))
        )


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def contact_key(brand_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(brand_key)


def lookup_key(brand_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LOOKUP_PURPOSE).derive(brand_key)


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def email_lookup(lookup: bytes, email: str) -> str:
    """The blind index of an address under a brand's lookup key (`lookup_key`); "" for no address."""
    email = normalise_email(email)
    return hmac.new(lookup, email.encode(), hashlib.sha256).hexdigest() if email else ""


def associated_data(brand_id: int, code_id: int) -> bytes:
    return f"serialize-owner:{brand_id}:{code_id}".encode()


def seal(brand_key: bytes, contact: Contact, associated: bytes) -> bytes:
    plain = json.dumps({"name": contact.name, "email": contact.email, "phone": contact.phone}).encode()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(contact_key(brand_key)).encrypt(nonce, plain, associated)


def unseal(brand_key: bytes, sealed: bytes, associated: bytes) -> Contact:
    try:
        plain = AESGCM(contact_key(brand_key)).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise SealError("This contact does not open under this brand's key.") from exc
    fields = json.loads(plain)
    return Contact(name=fields["name"], email=fields["email"], phone=fields["phone"])
