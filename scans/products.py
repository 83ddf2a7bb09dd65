"""What verifying needs of a product, cached per process: the hot path reads no product, batch or distributor
row per scan. A serial that decrypts outside every cached batch, or a brand whose generation moved, reloads."""

import bisect
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Max

from brands.models import Brand
from brands.services import is_registration_verified, is_verified_for
from codes import gs1
from codes.models import CodeBatch, Product
from codes.regulators import Registration
from codes.serials import SerialCodec
from distributors.queries import current_ranges

PRODUCT_CACHE_SECONDS = 30
REFRESH_SECONDS = 2
PRODUCT_CACHE_SIZE = 5_000


@dataclass(frozen=True)
class ProductInfo:
    """What verifying needs of a product, cached per process (the key stays in memory only)."""

    product_id: int
    brand: Brand
    name: str
    gtin: str | None  # None for a product without a GTIN (a Serialize product ref)
    key: bytes = field(repr=False)
    codec: SerialCodec = field(repr=False)
    batches: tuple["BatchInfo", ...] = ()  # by first ordinal: batches are contiguous ordinal blocks
    # An operator approved the brand's claim to this GTIN's GS1 prefix or, looked up by its ref, the brand's
    # company registration (a registration never vouches for a GTIN).
    verified_brand: bool = False
    batches_seen: tuple[int, int] = (0, 0)  # (count, highest id) of the product's batches when loaded
    generation: int = 0  # the brand's verify_generation when loaded: the verify statement reads the current one
    ref: str | None = None
    lookup: str = ""  # the cache key it was loaded under: its GTIN-14 or its ref (never all digits)
    registrations: tuple[Registration, ...] = ()  # its regulators' identifiers (MAL/NOT number, US NDC)
    needs_farmatag: bool = False  # must also carry Malaysia's FarmaTag: the page says so

    @property
    def tweak(self) -> str:
        """The serials' tweak (codes.models.Product.serial_tweak): the ref if it has one, else the GTIN."""
        return self.codec.identifier

    @property
    def has_imports(self) -> bool:
        """Some of its serials were imported (codes.imports): those are found by serial, not decrypted."""
        return any(b.imported for b in self.batches)

    def batch_of(self, ordinal: int) -> "BatchInfo | None":
        """The batch an ordinal was issued in, found without touching the database."""
        index = bisect.bisect_right([b.first_ordinal for b in self.batches], ordinal) - 1
        if index >= 0 and ordinal < self.batches[index].end_ordinal:
            return self.batches[index]
        return None


@dataclass(frozen=True)
class Holder:
    """A distributor holding positions [first_position, last_position] of a batch now."""

    first_position: int
    last_position: int
    distributor_id: int
    territory: frozenset[str]


@dataclass(frozen=True)
class BatchInfo:
    first_ordinal: int
    end_ordinal: int
    lot: str
    expires_on: date | None
    with_pin: bool
    holders: tuple[Holder, ...] = ()  # by first position; current assignments never overlap
    imported: bool = False  # its serials were uploaded by the brand, not derived from ordinals

    def holder_of(self, ordinal: int) -> Holder | None:
        """The distributor holding the unit with this ordinal, found without touching the database."""
        position = ordinal - self.first_ordinal + 1
        index = bisect.bisect_right(self.holders, position, key=lambda h: h.first_position) - 1
        if index >= 0 and position <= self.holders[index].last_position:
            return self.holders[index]
        return None


class ProductCache:
    """GTIN or product ref -> ProductInfo (or None) for a few seconds: saves a query per scan on the hot path.
    A ref always holds a dot and a GTIN-14 is all digits, so the two never share a key. What another process
    changes about the brand (approval, branding) is noticed sooner: the verify statement returns the brand's
    generation and a stale entry is reloaded at once (see GENERATION).

    Bounded (least recently used out), since hostile clients can ask for any number of GTINs; a GTIN
    nobody registered is remembered only briefly, so a new product verifies within seconds.
    """

    def __init__(self, seconds: float = PRODUCT_CACHE_SECONDS, size: int = PRODUCT_CACHE_SIZE):
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[str, tuple[float, ProductInfo | None]] = OrderedDict()
        self._batches_checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, gtin: str) -> ProductInfo | None:
        entry = self._entries.get(gtin)
        if entry is not None:
            lifetime = self.seconds if entry[1] is not None else REFRESH_SECONDS
            if time.monotonic() - entry[0] < lifetime:
                return entry[1]
        return self._load(gtin)

    def with_new_batches(self, info: ProductInfo) -> ProductInfo:
        """`info` again, or reloaded when batches were ordered since it was cached. Asked when a serial decrypts
        to an ordinal outside every cached batch; answered at most every REFRESH_SECONDS per product and with one
        small query, so a flood of made-up serials costs next to nothing and never stalls the other scans."""
        now = time.monotonic()
        if now - self._batches_checked.get(info.lookup, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return info
        if len(self._batches_checked) > self.size:
            self._batches_checked.clear()
        self._batches_checked[info.lookup] = now
        if _batches_seen(info.product_id) == info.batches_seen:
            return info
        return self._load(info.lookup) or info

    def _load(self, gtin: str) -> ProductInfo | None:
        info = _load_product(gtin)
        with self._lock:
            self._entries[gtin] = (time.monotonic(), info)
            self._entries.move_to_end(gtin)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return info

    def reload(self, gtin: str) -> ProductInfo | None:
        """Load again now: the verify statement found the brand's generation moved (an approval, new branding)."""
        return self._load(gtin)

    def reload_stale(self) -> int:
        """Reload every entry past its lifetime (a worker forked from a long-running master, before it takes
        its first request); returns how many."""
        now = time.monotonic()
        stale = [gtin for gtin, (loaded, info) in list(self._entries.items()) if now - loaded >= self.seconds]
        for gtin in stale:
            self._load(gtin)
        return len(stale)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._batches_checked.clear()


product_cache = ProductCache()


def _load_product(lookup: str) -> ProductInfo | None:
    # The brand (and its generation) is read first: a change committed after this read moves the generation,
    # so the next verify statement notices it, whatever the reads below saw.
    by_ref = gs1.is_product_ref(lookup)
    product = Product.objects.select_related("brand", "key").filter(**{"ref" if by_ref else "gtin": lookup}).first()
    if product is None:
        return None
    key = product.key.secret()
    codec = SerialCodec(key, product.serial_tweak, product.serial_format)
    rows = list(CodeBatch.objects.filter(product=product).select_related("lot").order_by("first_ordinal"))
    holders: dict[int, list[Holder]] = {}
    for batch_id, first, last, distributor_id, territory in current_ranges([b.pk for b in rows]):
        holders.setdefault(batch_id, []).append(Holder(first, last, distributor_id, frozenset(territory)))
    batches = tuple(
        BatchInfo(
            b.first_ordinal,
            b.end_ordinal,
            b.lot.number,
            b.lot.expires_on,
            b.with_pin,
            tuple(holders.get(b.pk, ())),
            b.imported,
        )
        for b in rows
    )
    verified = product.gtin is not None and is_verified_for(product.brand, product.gtin)
    if by_ref and not verified:  # its old labels: vouched for by the registration (or, upgraded, its prefix)
        verified = is_registration_verified(product.brand)
    seen = (len(rows), max((b.pk for b in rows), default=0))
    return ProductInfo(
        product.pk,
        product.brand,
        str(product),
        product.gtin,
        key,
        codec,
        batches,
        verified,
        seen,
        product.brand.verify_generation,
        product.ref,
        lookup,
        product.registrations,
        product.needs_farmatag,
    )


def _batches_seen(product_id: int) -> tuple[int, int]:
    seen = CodeBatch.objects.filter(product_id=product_id).aggregate(count=Count("pk"), highest=Max("pk"))
    return seen["count"], seen["highest"] or 0
