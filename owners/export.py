"""The marketing list as CSV: the owners who agreed to marketing (and still do), their contacts decrypted one
row at a time as the rows stream from a server-side cursor, so memory stays flat and no file of contacts is
ever written on our side. For members with `owners.view` only."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from brands import spreadsheet
from brands.models import BrandKey

from .queries import marketing_audience
from .sealing import associated_data, unseal

COLUMNS = ["registered_at", "name", "email", "phone", "language", "product", "gtin", "serial", "consented_at"]
CHUNK_ROWS = 2_000
_READ = (
    "brand_id",
    "code_id",
    "key_id",
    "sealed_contact",
    "registered_at",
    "language",
    "code__product__name",
    "code__product__gtin",
    "code__serial",
    "marketing_at",
)


def marketing_csv_lines(registrations: QuerySet) -> Iterator[str]:
    """The header, then one owner per line, oldest registration first (ties by id)."""
    audience = marketing_audience(registrations)
    # A brand has a few keys (one per rotation): each is unsealed under MASTER_KEY once per file, before the rows.
    keys = BrandKey.objects.filter(pk__in=audience.values("key_id"))
    rows = audience.order_by("registered_at", "pk").values_list(*_READ).iterator(chunk_size=CHUNK_ROWS)
    return spreadsheet.csv_lines(COLUMNS, _rows(rows, keys))


def _rows(found, keys: QuerySet) -> Iterator[list]:
    secrets = {key.pk: key.secret() for key in keys}
    for brand_id, code_id, key_id, sealed, registered_at, language, product, gtin, serial, consented_at in found:
        contact = unseal(secrets[key_id], bytes(sealed), associated_data(brand_id, code_id))
        yield [
            registered_at.isoformat(),
            contact.name,
            contact.email,
            contact.phone,
            language,
            product,
            gtin,
            serial,
            consented_at.isoformat(),
        ]
