"""Unique, unguessable product serials: FF1 format-preserving encryption of print ordinals.

A serial is FF1 (NIST SP 800-38G) applied to the unit's private ordinal (0, 1, 2, ... in print
order) under the brand's AES-256 key, with the product's GTIN-14 as tweak, written in the
product's alphabet and length. FF1 is a permutation of the format's space, so serials are unique
by construction, and decrypting a scanned serial gives back its ordinal: one whose ordinal is not
below the issued count was never printed and is rejected without a database read.

``FF1.encrypt``/``decrypt`` are a scalar, spec-literal reference. ``SerialCodec.serials`` runs a
numpy batch path (one AES-ECB call per Feistel round for a whole chunk) because bulk printing must
outpace PostgreSQL COPY; tests check both paths agree.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from .gs1 import is_product_ref

__all__ = [
    "CROCKFORD32",
    "DIGITS",
    "GS1_CSET82",
    "FF1",
    "SerialCodec",
    "SerialFormat",
    "pin_matches",
    "scratch_pin",
]

CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DIGITS = "0123456789"
# GS1 AI encodable character set 82: the only characters GS1 allows in AI (21), the serial.
GS1_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

MAX_LENGTH = 20  # GS1 AI (21) is X..20
MIN_SPACE = 1_000_000  # FF1 requires radix**minlen >= 10**6 (SP 800-38G Rev. 1)
HALF_LIMIT = 2**56  # batch path: radix**ceil(n/2) below this keeps all arithmetic in uint64
ROUNDS = 10
PIN_DIGITS = range(6, 9)

_CHUNK = 65_536  # rows per batch: bounds memory, large enough to amortise per-call overhead
_MASK64 = 2**64 - 1
# Crockford decoding rules: case-insensitive, I/L read as 1, O as 0, hyphens ignored.
_CROCKFORD_INPUT = str.maketrans(
    {
        **{chr(c): chr(c - 32) for c in range(ord("a"), ord("z") + 1)},
        "I": "1",
        "i": "1",
        "L": "1",
        "l": "1",
        "O": "0",
        "o": "0",
        "-": None,
    }
)
_PIN_LABEL = b"serialize/scratch-pin/v1|"  # domain separation: the brand key also keys FF1


@dataclass(frozen=True)
class SerialFormat:
    """Alphabet and length of a product's serials, validated against FF1 and GS1 AI (21)."""

    alphabet: str
    length: int

    ALNUM: ClassVar[SerialFormat]
    NUMERIC: ClassVar[SerialFormat]

    def __post_init__(self) -> None:
        if len(self.alphabet) < 2 or len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError("alphabet needs at least 2 distinct characters")
        if not set(self.alphabet) <= set(GS1_CSET82):
            raise ValueError("alphabet must use GS1 character set 82 (AI 21)")
        if not 1 <= self.length <= MAX_LENGTH:
            raise ValueError(f"length must be 1..{MAX_LENGTH} (GS1 AI 21)")
        if self.space < MIN_SPACE:
            raise ValueError(f"radix**length must be >= {MIN_SPACE} (FF1 domain minimum)")
        if self.radix ** (self.length - self.length // 2) >= HALF_LIMIT:
            raise ValueError("radix**ceil(length/2) must be < 2**56")

    @property
    def radix(self) -> int:
        return len(self.alphabet)

    @property
    def space(self) -> int:
        """Number of possible serials (= number of ordinals)."""
        return int(self.radix**self.length)

    def guess_probability(self, issued: int) -> float:
        """Chance that one random guess hits an issued serial."""
        if not 0 <= issued <= self.space:
            raise ValueError("issued must be within 0..space")
        return issued / self.space

    def normalise(self, text: str) -> str:
        """Canonical form of human input: Crockford decoding rules for CROCKFORD32, else as is."""
        if self.alphabet == CROCKFORD32:
            return text.translate(_CROCKFORD_INPUT)
        return text


SerialFormat.ALNUM = SerialFormat(CROCKFORD32, 12)
SerialFormat.NUMERIC = SerialFormat(DIGITS, 13)


def _num(numerals: Sequence[int], radix: int) -> int:
    """NUM_radix: numerals (most significant first) to an integer."""
    x = 0
    for digit in numerals:
        x = x * radix + digit
    return x


def _str(x: int, radix: int, m: int) -> list[int]:
    """STR^m_radix: integer to m numerals, most significant first."""
    out = [0] * m
    for i in range(m - 1, -1, -1):
        x, out[i] = divmod(x, radix)
    return out


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(16, "big")


def _pack(numerals: np.ndarray, radix: int) -> np.ndarray:
    """Row-wise NUM_radix of a 2-D numeral array, as uint64."""
    x = np.zeros(numerals.shape[0], dtype=np.uint64)
    for col in numerals.T:
        x = x * np.uint64(radix) + col.astype(np.uint64)
    return x


def _unpack(x: np.ndarray, radix: int, out: np.ndarray) -> np.ndarray:
    """Row-wise STR^m_radix into `out` (shape (rows, m)), most significant first."""
    r = np.uint64(radix)
    for i in range(out.shape[1] - 1, -1, -1):
        q = x // r
        out[:, i] = x - q * r  # cheaper than a second division for the remainder
        x = q
    return out


class FF1:
    """FF1 format-preserving encryption (NIST SP 800-38G) over AES, for one key and radix.

    ``encrypt``/``decrypt`` follow Algorithms 7/8 verbatim; ``encrypt_many``/``decrypt_many``
    process every row of a numeral array at once and give the same results.
    """

    def __init__(self, key: bytes, radix: int) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        if not 2 <= radix <= 2**16:
            raise ValueError("radix must be 2..65536")
        self._key = bytes(key)
        self.radix = radix
        self._contexts = threading.local()

    def _ecb(self) -> CipherContext:
        # Raw block encryption for FF1's PRF; the CBC-MAC chaining is done explicitly by the callers. One
        # context per thread, reused: contexts are stateful (not shareable across threads), but ECB carries
        # nothing from one whole block to the next, and every call passes whole blocks.
        context = getattr(self._contexts, "ecb", None)
        if context is None:
            context = self._contexts.ecb = Cipher(algorithms.AES(self._key), modes.ECB()).encryptor()  # noqa: S305
        return context

    def _params(self, tweak: bytes, n: int) -> tuple[int, int, int, int, bytes]:
        """Steps 1-5 of Algorithm 7: u, v, b, d and the fixed PRF block P."""
        if n < 2 or n >= 2**32 or self.radix**n < MIN_SPACE:
            raise ValueError("need 2 <= n < 2**32 and radix**n >= 10**6")
        if len(tweak) >= 2**32:
            raise ValueError("tweak too long")
        u = n // 2
        v = n - u
        # ceil(v * log2(radix)) computed exactly: the bits needed for radix**v - 1.
        b = -(-(self.radix**v - 1).bit_length() // 8)
        d = 4 * -(-b // 4) + 4
        p = (
            bytes([1, 2, 1])
            + self.radix.to_bytes(3, "big")
            + bytes([10, u % 256])
            + n.to_bytes(4, "big")
            + len(tweak).to_bytes(4, "big")
        )
        return u, v, b, d, p

    def _round_y(self, enc: CipherContext, p: bytes, q: bytes, d: int) -> int:
        """Steps 6.ii-iv: y = NUM(S), S the first d bytes of the PRF output expanded."""
        r = bytes(16)
        x = p + q
        for j in range(0, len(x), 16):  # PRF = CBC-MAC with zero IV
            r = enc.update(_xor(r, x[j : j + 16]))
        s = r
        for j in range(1, -(-d // 16)):
            s += enc.update(_xor(r, j.to_bytes(16, "big")))
        return int.from_bytes(s[:d], "big")

    def encrypt(self, tweak: bytes, numerals: Sequence[int]) -> list[int]:
        """FF1.Encrypt (Algorithm 7)."""
        return self._scalar(tweak, numerals, decrypt=False)

    def decrypt(self, tweak: bytes, numerals: Sequence[int]) -> list[int]:
        """FF1.Decrypt (Algorithm 8)."""
        return self._scalar(tweak, numerals, decrypt=True)

    def _scalar(self, tweak: bytes, numerals: Sequence[int], *, decrypt: bool) -> list[int]:
        x = [operator.index(digit) for digit in numerals]  # accepts numpy integers, rejects floats
        if any(not 0 <= digit < self.radix for digit in x):
            raise ValueError("numeral out of range for radix")
        n = len(x)
        u, v, b, d, p = self._params(tweak, n)
        radix = self.radix
        enc = self._ecb()
        pad = bytes((-len(tweak) - b - 1) % 16)
        # Only the last PRF block (round number and NUM of the half) changes from round to round when it
        # holds all of them: chain P and the fixed start of Q once (the verify path decrypts one serial
        # per request, so this halves its cost).
        head = p + tweak + pad
        fixed = len(head) - (16 - 1 - b) if b < 16 and d <= 16 else None
        state = self._cbc(enc, head[:fixed]) if fixed is not None else None
        a, bb = x[:u], x[u:]
        for i in reversed(range(ROUNDS)) if decrypt else range(ROUNDS):
            m = u if i % 2 == 0 else v
            half = a if decrypt else bb
            tail = bytes([i]) + _num(half, radix).to_bytes(b, "big")
            if state is not None:
                y = int.from_bytes(enc.update(_xor(state, head[fixed:] + tail))[:d], "big")
            else:
                y = self._round_y(enc, p, tweak + pad + tail, d)
            if decrypt:
                c = (_num(bb, radix) - y) % radix**m
                a, bb = _str(c, radix, m), a
            else:
                c = (_num(a, radix) + y) % radix**m
                a, bb = bb, _str(c, radix, m)
        return a + bb

    @staticmethod
    def _cbc(enc: CipherContext, data: bytes) -> bytes:
        """CBC-MAC state (zero IV) after whole blocks of `data`."""
        r = bytes(16)
        for j in range(0, len(data), 16):
            r = enc.update(_xor(r, data[j : j + 16]))
        return r

    def encrypt_many(self, tweak: bytes, numerals: np.ndarray) -> np.ndarray:
        """Encrypt each row of a 2-D numeral array; row for row equal to ``encrypt``."""
        return self._many(tweak, numerals, decrypt=False)

    def decrypt_many(self, tweak: bytes, numerals: np.ndarray) -> np.ndarray:
        """Decrypt each row of a 2-D numeral array; row for row equal to ``decrypt``."""
        return self._many(tweak, numerals, decrypt=True)

    def _many(self, tweak: bytes, numerals: np.ndarray, *, decrypt: bool) -> np.ndarray:
        x = np.asarray(numerals)
        if x.ndim != 2:
            raise ValueError("numerals must be a 2-D array (rows, n)")
        if x.size and (x.min() < 0 or x.max() >= self.radix):
            raise ValueError("numeral out of range for radix")
        n = x.shape[1]
        u = n // 2
        a, b = self._rounds(tweak, n, _pack(x[:, :u], self.radix), _pack(x[:, u:], self.radix), decrypt=decrypt)
        out = np.empty(x.shape, dtype=np.int64)
        _unpack(a, self.radix, out[:, :u])
        _unpack(b, self.radix, out[:, u:])
        return out

    def _rounds(
        self, tweak: bytes, n: int, a: np.ndarray, b: np.ndarray, *, decrypt: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batch Feistel rounds on the halves' values NUM(A), NUM(B) (uint64 arrays)."""
        u, v, bl, d, p = self._params(tweak, n)
        if self.radix**v >= HALF_LIMIT:
            raise ValueError("batch path needs radix**ceil(n/2) < 2**56")
        enc = self._ecb()
        pad = bytes((-len(tweak) - bl - 1) % 16)
        block = np.empty((a.shape[0], 2), dtype=">u8")  # one PRF block per row, big-endian halves
        for i in reversed(range(ROUNDS)) if decrypt else range(ROUNDS):
            mod = np.uint64(self.radix ** (u if i % 2 == 0 else v))
            # The only per-row bytes of P||Q are NUM(B)'s b <= 7 trailing bytes, all inside the last
            # block, so the CBC-MAC chain up to that block is shared: computed once, scalar.
            x = p + tweak + pad + bytes([i]) + bytes(bl)
            chain = bytes(16)
            for j in range(0, len(x) - 16, 16):
                chain = enc.update(_xor(chain, x[j : j + 16]))
            last = int.from_bytes(_xor(chain, x[-16:]), "big")
            block[:, 0] = last >> 64
            block[:, 1] = (a if decrypt else b) ^ np.uint64(last & _MASK64)
            # numpy arrays are buffers; its stubs do not say so to `cryptography`'s.
            r = np.frombuffer(enc.update(block.view(np.uint8)), dtype=">u8")  # type: ignore[arg-type]
            # y = NUM(S) mod radix**m, S = first d (8 or 12) bytes of R: first 8 bytes in one
            # step, then Horner byte by byte (y < 2**56 so y << 8 cannot overflow).
            y = r[0::2].astype(np.uint64) % mod
            if d > 8:
                tail = r[1::2].astype(np.uint64) >> np.uint64(64 - 8 * (d - 8))
                for shift in range(8 * (d - 9), -1, -8):
                    y = ((y << np.uint64(8)) | ((tail >> np.uint64(shift)) & np.uint64(0xFF))) % mod
            if decrypt:
                c = b + (mod - y)
            else:
                c = a + y
            # c < 2*mod: reduce without a division. If c < mod, c - mod wraps to above c.
            c = np.minimum(c, c - mod)
            a, b = (c, a) if decrypt else (b, c)
        return a, b


def _check_key(key: bytes) -> bytes:
    if len(key) != 32:
        raise ValueError("brand key must be 32 bytes (AES-256)")
    return bytes(key)


def _check_identifier(identifier: str) -> str:
    """A product's identifier as the tweak: a GTIN-14, or a Serialize product ref (never all digits, so no ref
    tweaks like a GTIN). Only the shape is checked; the check digit is the product model's business."""
    gtin = len(identifier) == 14 and identifier.isascii() and identifier.isdigit()
    if not (gtin or is_product_ref(identifier)):
        raise ValueError("the tweak must be a GTIN-14 (14 ASCII digits) or a product ref")
    return identifier


class SerialCodec:
    """Serials of one product: ordinal <-> serial under the brand key, the product's tweak (its GTIN-14, or its
    product ref for products without a GTIN) and format."""

    def __init__(self, key: bytes, identifier: str, fmt: SerialFormat) -> None:
        self.format = fmt
        self.identifier = _check_identifier(identifier)
        self._tweak = identifier.encode("ascii")
        self._ff1 = FF1(_check_key(key), fmt.radix)
        self._index = {ch: i for i, ch in enumerate(fmt.alphabet)}
        self._codepoints = np.array([ord(ch) for ch in fmt.alphabet], dtype=np.uint32)
        self._u = fmt.length // 2
        self._mod_v = fmt.radix ** (fmt.length - self._u)

    def _check_range(self, start: int, count: int) -> None:
        if start < 0 or count < 0 or start + count > self.format.space:
            raise ValueError(f"ordinals must lie in [0, {self.format.space})")

    def serial(self, ordinal: int) -> str:
        """The serial of one ordinal (scalar reference path)."""
        self._check_range(ordinal, 1)
        fmt = self.format
        numerals = self._ff1.encrypt(self._tweak, _str(ordinal, fmt.radix, fmt.length))
        return "".join(fmt.alphabet[i] for i in numerals)

    def serials(self, start: int, count: int) -> list[str]:
        """Serials of ordinals start .. start+count-1, in order (vectorised batch path)."""
        self._check_range(start, count)
        out: list[str] = []
        for lo in range(start, start + count, _CHUNK):
            out += self._chunk(lo, min(_CHUNK, start + count - lo))
        return out

    def _chunk(self, start: int, count: int) -> list[str]:
        fmt, u = self.format, self._u
        # ordinal = a * radix**v + b; split start once and carry, so no value ever needs > 64 bits.
        hi, lo = divmod(start, self._mod_v)
        mod_v = np.uint64(self._mod_v)
        b = np.arange(lo, lo + count, dtype=np.uint64)
        a = np.uint64(hi) + b // mod_v
        b %= mod_v
        a, b = self._ff1._rounds(self._tweak, fmt.length, a, b, decrypt=False)
        numerals = np.empty((count, fmt.length), dtype=np.int64)
        _unpack(a, fmt.radix, numerals[:, :u])
        _unpack(b, fmt.radix, numerals[:, u:])
        chars = self._codepoints.take(numerals)
        # Rows of UCS-4 code points reinterpret in place as fixed-width numpy str (no NULs in cset 82).
        return chars.view(f"U{fmt.length}").ravel().tolist()

    def ordinal(self, serial: str) -> int | None:
        """The ordinal a serial encodes, or None if it is not a well-formed serial of this format.

        Input is normalised first (see ``SerialFormat.normalise``). The caller still has to check
        the result against the issued count.
        """
        fmt = self.format
        text = fmt.normalise(serial)
        if len(text) != fmt.length:
            return None
        try:
            numerals = [self._index[ch] for ch in text]
        except KeyError:
            return None
        return _num(self._ff1.decrypt(self._tweak, numerals), fmt.radix)


def scratch_pin(key: bytes, identifier: str, serial: str, digits: int = 7) -> str:
    """The scratch-off PIN of a unit: HMAC-SHA256(key, identifier|serial) cut to `digits` decimals, the
    identifier being the product's serial tweak (its GTIN-14 or product ref).

    Derived on demand, never stored. `serial` must be canonical (``SerialCodec.serial`` output).
    """
    if digits not in PIN_DIGITS:
        raise ValueError("digits must be 6..8")
    message = _PIN_LABEL + f"{_check_identifier(identifier)}|{serial}".encode()
    mac = hmac.new(_check_key(key), message, hashlib.sha256).digest()
    # 256 bits mod 10**8: the bias is about 2**-229, negligible.
    return f"{int.from_bytes(mac, 'big') % 10**digits:0{digits}d}"


def pin_matches(key: bytes, identifier: str, serial: str, candidate: str, digits: int = 7) -> bool:
    """Whether `candidate` is the unit's scratch PIN, compared in constant time."""
    expected = scratch_pin(key, identifier, serial, digits)
    return candidate.isascii() and hmac.compare_digest(expected, candidate)
