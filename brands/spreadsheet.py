"""CSV files people open in a spreadsheet: a cell that starts like a formula is written as text.

Anyone can put text into our CSVs (a serial typed into a verify URL, a consumer's report note, a distributor's
name), and Excel, LibreOffice and Sheets run a cell starting with = + - @ (or a tab or carriage return before
one) as a formula: `=HYPERLINK(...)` becomes a link that leaks data, or worse. Such a cell gets a leading
apostrophe (OWASP "CSV Injection"). Print files for line printers keep exact serials and do not use this.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value a spreadsheet shows as text; numbers, dates and harmless text are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetWriter:
    """csv.writer for files people open: every cell goes through `safe_cell`."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file that hands back what is written: csv.writer formats one line, the generator yields it."""

    def write(self, value):
        return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """A CSV people open, line by line for a streamed response: the header, then each row as it is read
    (never a list: an export can hold millions of rows)."""
    writer = SpreadsheetWriter(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
