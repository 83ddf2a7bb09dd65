"""The scan log as CSV, one writer for the dashboard's export and the API's: the same columns everywhere, rows
streamed from a server-side cursor so memory stays flat however many scans match."""

from collections.abc import Iterator

from django.db.models import QuerySet

from brands import spreadsheet

CSV_COLUMNS = [
    ("scanned_at", "scanned_at"),
    ("gtin", "gtin"),
    ("serial", "serial"),
    ("product", "product__name"),
    ("variant", "product__variant"),
    ("batch", "code__batch__number"),
    ("lot", "code__batch__lot__number"),
    ("outcome", "outcome"),
    ("source", "source"),
    ("place", "place"),
    ("region", "region_code"),
    ("country", "country_code"),
    ("located_by", "location_source"),
    ("distributor", "distributor__code"),
    ("outside_territory", "out_of_territory"),
]
CHUNK_ROWS = 5_000


def csv_lines(scans: QuerySet) -> Iterator[str]:
    """The header, then one line per scan, newest first (ties by id), read CHUNK_ROWS at a time."""
    rows = scans.order_by("-scanned_at", "-pk").values_list(*(column for _, column in CSV_COLUMNS))
    found = rows.iterator(chunk_size=CHUNK_ROWS)
    return spreadsheet.csv_lines([name for name, _ in CSV_COLUMNS], ([row[0].isoformat(), *row[1:]] for row in found))
