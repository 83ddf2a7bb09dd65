"""What a print request may ask for: the options of each format (the one source the print form's fields and
`export_batch`'s check are made from), the range and the part size; validated here, stored on the job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from reportlab.lib.units import mm

from core.errors import ServiceError

from ..labels import PAGE_SIZES, SheetLayout
from ..models import CodeBatch, PrintFormat
from ..positions import check_range


class PrintError(ServiceError):
    """A print request that cannot be made; `field` names what to fix."""


NO_GTIN_DATAMATRIX = (
    "A GS1 DataMatrix carries the product's GTIN, and this product has none (it has a Serialize product ref): "
    "print QR codes, which carry its verify URL. Once the product has a GTIN, DataMatrix labels are available."
)

# The formats that print a batch's scratch PINs (a column, a line under the code); symbols carry only the URL.
PIN_FORMATS = frozenset({PrintFormat.CSV, PrintFormat.PDF})


def carries_pins(*, batch, fmt: str) -> bool:
    """Whether a print file would hold scratch PINs, which let their holder pass every PIN check."""
    return bool(batch.with_pin) and fmt in PIN_FORMATS


def symbology_problem(product, fmt: str, options: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when a format would print a GS1 symbol claiming a GTIN for a product without one."""
    if product.gtin:
        return None
    if fmt == PrintFormat.DATAMATRIX:
        return "format", NO_GTIN_DATAMATRIX
    if fmt == PrintFormat.PDF and options.get("symbology") == "datamatrix":
        return "symbology", NO_GTIN_DATAMATRIX
    return None


@dataclass(frozen=True)
class Option:
    """One print option: its default, what it accepts (`choices`, as (value, label), or a number in
    [low, high] of `kind`) and the label a form shows for it."""

    name: str
    label: str
    default: Any
    choices: tuple[tuple[str, str], ...] = ()
    low: float = 0
    high: float = 0
    kind: type = int
    upper: bool = False  # choices are upper case: "h" means "H"

    def clean(self, value: Any) -> Any:
        return self._choice(value) if self.choices else self._number(value)

    def _choice(self, value: Any) -> str:
        values = tuple(v for v, _label in self.choices)
        text = str(value).upper() if self.upper else str(value)
        if text not in values:
            raise PrintError(self.name, f"{self.name} must be one of {', '.join(values)}.")
        return text

    def _number(self, value: Any) -> Any:
        try:
            number = self.kind(value)
        except (TypeError, ValueError):
            raise PrintError(self.name, f"{self.name} must be a number.") from None
        if not self.low <= number <= self.high:
            raise PrintError(self.name, f"{self.name} must be between {self.low:g} and {self.high:g}.")
        return number


ERROR_LEVEL = Option(
    "error_level",
    "QR error correction",
    "M",
    choices=(("L", "L (7 %)"), ("M", "M (15 %)"), ("Q", "Q (25 %)"), ("H", "H (30 %)")),
    upper=True,
)
MODULE_SIZE = Option("module_size", "Module size (px)", 4, low=1, high=40)
SYMBOLOGY = Option("symbology", "PDF code", "qr", choices=(("qr", "QR (vector)"), ("datamatrix", "GS1 DataMatrix")))
_PAGE_LABELS = {"LETTER": "US Letter"}
PAGE_SIZE = Option(
    "page_size", "Page", "A4", choices=tuple((size, _PAGE_LABELS.get(size, size)) for size in PAGE_SIZES), upper=True
)
COLUMNS = Option("columns", "Columns", 3, low=1, high=12)
ROWS = Option("rows", "Rows", 8, low=1, high=30)
MARGIN_MM = Option("margin_mm", "Margins (mm)", 10, low=0, high=50, kind=float)

# Per format, the options it takes. Unknown options are refused, so a typo is never ignored.
OPTIONS: dict[str, tuple[Option, ...]] = {
    PrintFormat.CSV: (),
    PrintFormat.QR_SVG: (ERROR_LEVEL, MODULE_SIZE),
    PrintFormat.QR_PNG: (ERROR_LEVEL, MODULE_SIZE),
    PrintFormat.DATAMATRIX: (MODULE_SIZE,),
    PrintFormat.PDF: (SYMBOLOGY, ERROR_LEVEL, PAGE_SIZE, COLUMNS, ROWS, MARGIN_MM),
}
# Every option once, in the order a form shows them.
ALL_OPTIONS: tuple[Option, ...] = (ERROR_LEVEL, MODULE_SIZE, SYMBOLOGY, PAGE_SIZE, COLUMNS, ROWS, MARGIN_MM)


def clean_options(fmt: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Options of a format with defaults filled in; PrintError naming the field otherwise."""
    if fmt not in OPTIONS:
        raise PrintError("format", f"Unknown format {fmt!r}: choose one of {', '.join(PrintFormat.values)}.")
    allowed = {option.name: option for option in OPTIONS[fmt]}
    given = {k: v for k, v in (options or {}).items() if v is not None and v != ""}
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise PrintError(unknown[0], f"{unknown[0]} is not an option of the {fmt} format.")
    cleaned = {name: option.clean(given.get(name, option.default)) for name, option in allowed.items()}
    if fmt == PrintFormat.PDF:
        _check_label_size(cleaned)
    return cleaned


MIN_LABEL_MM = 12.0


def _check_label_size(options: dict[str, Any]) -> None:
    """A label must hold a code a phone can read: refuse grids whose cells are smaller than 12 mm."""
    try:
        cell = layout(options).cells()[0]
    except ValueError:
        raise PrintError("margin_mm", "The margins leave no room for the labels.") from None
    for field, length in (("columns", cell.width / mm), ("rows", cell.height / mm)):
        if length < MIN_LABEL_MM:
            raise PrintError(
                field, f"Labels would be {length:.1f} mm: at least {MIN_LABEL_MM:g} mm; use fewer {field} or margins."
            )


def layout(options: dict[str, Any]) -> SheetLayout:
    return SheetLayout(
        page_size=options["page_size"],
        columns=options["columns"],
        rows=options["rows"],
        margins_mm=options["margin_mm"],
    )


def clean_range(batch: CodeBatch, first_position: int | None, last_position: int | None) -> tuple[int, int]:
    """The positions [first_position, last_position] of a batch, defaulting to the whole batch."""
    return check_range(batch, first_position, last_position, error=PrintError)


def default_part_size() -> int:
    return settings.PRINT_PART_SIZE


def clean_part_size(part_size: int | None) -> int:
    """Codes per part: PRINT_PART_SIZE by default, never more than PRINT_PART_SIZE_MAX (a part is one file
    a worker writes and a person downloads; its size must stay bounded whatever is asked)."""
    if part_size is None:
        return default_part_size()
    if not 1 <= part_size <= settings.PRINT_PART_SIZE_MAX:
        raise PrintError("part_size", f"Codes per file must be between 1 and {settings.PRINT_PART_SIZE_MAX:,}.")
    return part_size
