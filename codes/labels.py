"""PDF label sheets (no Django).

:func:`write_label_sheets` streams a PDF to a binary file object page by page:
memory stays bounded whatever the number of labels (100k labels = thousands of
pages). reportlab's ``Canvas`` keeps every page in memory until ``save()``, so the
file structure is written here directly (a small PDF 1.4 writer: objects, xref,
trailer) while reportlab supplies what it is good at: page sizes, units and the
metrics of the standard fonts used to fit the text.

Codes are vector graphics: each horizontal run of dark modules is one filled
rectangle, in module units under a ``cm`` transform, all filled with one ``f``.
"""

from __future__ import annotations

import functools
import itertools
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Literal

import numpy as np
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from codes.symbols import DM_QUIET_ZONE, QR_QUIET_ZONE, QrRenderer, dark_runs, datamatrix_matrix

__all__ = ["Cell", "Label", "SheetLayout", "code_operators", "write_label_sheets"]

Symbology = Literal["qr", "datamatrix"]

PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "LETTER": LETTER}

# Font resource names -> standard-14 fonts (never embedded).
_FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier-Bold"}
_CAPTION_FONT, _SERIAL_FONT, _SMALL_FONT = "F2", "F3", "F1"


@dataclass(frozen=True, slots=True)
class Label:
    """One label: the code payload (URL for QR, GS1 element string for
    DataMatrix), the human-readable serial, an optional caption (wrapped onto
    up to three lines, shrunk rather than cut), PIN, and lines of human-readable text
    printed between caption and serial (GS1 HRI: "(01) GTIN", "(17) … (10) …")."""

    payload: str
    serial: str
    caption: str | None = None
    pin: str | None = None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cell:
    """A label's rectangle on the page, in points, origin bottom-left."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """Page size, grid and margins of a label sheet (lengths in mm).

    ``margins_mm`` is one value for all sides or (top, right, bottom, left);
    ``gap_mm`` is the space between labels, one value or (horizontal, vertical).
    """

    page_size: str | tuple[float, float] = "A4"  # "A4", "LETTER" or (width, height) in mm
    columns: int = 3
    rows: int = 8
    margins_mm: float | tuple[float, float, float, float] = 10.0
    gap_mm: float | tuple[float, float] = 2.0

    @property
    def page_points(self) -> tuple[float, float]:
        if isinstance(self.page_size, str):
            try:
                return PAGE_SIZES[self.page_size.upper()]
            except KeyError:
                raise ValueError(f"unknown page size {self.page_size!r} (A4, LETTER or (w, h) mm)") from None
        width, height = self.page_size
        return width * mm, height * mm

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def cells(self) -> list[Cell]:
        """Label rectangles in reading order (left to right, top to bottom)."""
        if self.columns < 1 or self.rows < 1:
            raise ValueError("columns and rows must be >= 1")
        page_w, page_h = self.page_points
        m = self.margins_mm
        top, right, bottom, left = (m, m, m, m) if isinstance(m, int | float) else m
        g = self.gap_mm
        gap_x, gap_y = (g, g) if isinstance(g, int | float) else g
        width = (page_w - (left + right + gap_x * (self.columns - 1)) * mm) / self.columns
        height = (page_h - (top + bottom + gap_y * (self.rows - 1)) * mm) / self.rows
        if width <= 0 or height <= 0:
            raise ValueError("margins and gaps leave no room for the labels")
        return [
            Cell(
                x=(left + col * gap_x) * mm + col * width,
                y=page_h - (top + row * gap_y) * mm - (row + 1) * height,
                width=width,
                height=height,
            )
            for row in range(self.rows)
            for col in range(self.columns)
        ]


# --------------------------------------------------------------------------
# Content stream pieces
# --------------------------------------------------------------------------


def _num(value: float) -> str:
    """Compact PDF number (3 decimals are 1/24000 inch: plenty)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


@functools.lru_cache(maxsize=16)
def _rect_tokens(size: int) -> tuple[list[str], int]:
    """Strings "col row " for every (col, row) and "k 1 re\\n" for every k < size.

    Looking them up by numpy-computed indices is much faster than formatting
    one f-string per rectangle.
    """
    positions = [f"{c} {r} " for c in range(size) for r in range(size)]
    lengths = [f"{k} 1 re\n" for k in range(size + 1)]
    return positions + lengths, size * size


def code_operators(matrix: np.ndarray, x: float, y_top: float, module: float) -> str:
    """PDF operators drawing ``matrix`` (True = dark) with its top-left module
    corner at (x, y_top) and ``module`` points per module: one rectangle per run
    of dark modules, in module units under a y-flipping ``cm``."""
    size = max(matrix.shape)
    tokens, offset = _rect_tokens(size)
    r, c, k = dark_runs(matrix)
    idx = np.empty((r.size, 2), dtype=np.intp)
    idx[:, 0] = c * size + r
    idx[:, 1] = offset + k
    body = "".join([tokens[i] for i in idx.ravel().tolist()])
    return f"q {_num(module)} 0 0 {_num(-module)} {_num(x)} {_num(y_top)} cm\n{body}f\nQ\n"


def _pdf_text(text: str) -> str:
    """A PDF literal string for WinAnsi-encoded standard fonts (as latin-1 str)."""
    raw = text.encode("cp1252", errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _fit(text: str, font: str, size: float, width: float) -> tuple[str, float]:
    """Shrink the font (to 70 %, at least 4 pt), then truncate with an ellipsis, to fit ``width``."""
    # Measure what will be drawn: characters outside WinAnsi become "?".
    text = text.encode("cp1252", errors="replace").decode("cp1252")
    name = _FONTS[font]
    actual = stringWidth(text, name, size)
    if actual <= width:
        return text, size
    size = max(4.0, 0.7 * size, size * width / actual * 0.999)  # 0.999: float round-off
    if stringWidth(text, name, size) <= width:
        return text, size
    while text and stringWidth(text + "\u2026", name, size) > width:
        text = text[:-1]
    return (text + "\u2026" if text else ""), size


def _wrap(text: str, font: str, size: float, width: float, max_lines: int = 3) -> tuple[list[str], float]:
    """Break ``text`` at spaces onto at most ``max_lines`` lines of ``width``; shrink the font (to 60 %, at
    least 4 pt) before cutting, and cut the last line with an ellipsis only when even that does not fit."""
    text = text.encode("cp1252", errors="replace").decode("cp1252")
    name = _FONTS[font]

    def greedy(at: float) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            if lines and stringWidth(lines[-1] + " " + word, name, at) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines or [""]

    smallest = max(4.0, 0.6 * size)
    at = size
    while True:
        lines = greedy(at)
        if len(lines) <= max_lines and all(stringWidth(line, name, at) <= width for line in lines):
            return lines, at
        if at <= smallest:
            break
        at = max(smallest, at * 0.92)
    kept = lines[:max_lines]
    if len(lines) > max_lines:
        kept[-1] = kept[-1] + " " + " ".join(lines[max_lines:])
    return [_fit(line, font, at, width)[0] for line in kept], at


def _text_op(text: str, font: str, size: float, x: float, y: float) -> str:
    return f"BT /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td {_pdf_text(text)} Tj ET\n"


@dataclass(frozen=True, slots=True)
class _CellPlan:
    """Where things go inside a label, relative to the cell's bottom-left corner."""

    code_x: float
    code_top: float
    code_side: float
    text_x: float
    text_top: float
    text_width: float
    font_size: float
    centred: bool
    pad: float


def _plan(cell: Cell, extra_lines: int = 0) -> _CellPlan:
    """Where the code and text go; `extra_lines` of small text (a second caption line, HRI) need room too."""
    w, h = cell.width, cell.height
    pad = min(2 * mm, 0.06 * min(w, h))
    if w >= 1.5 * h and w - h - pad >= 12 * mm:
        # Code on the left, text column on the right.
        side = h - 2 * pad
        font = min(10.0, max(5.0, side / 7))
        return _CellPlan(pad, h - pad, side, 2 * pad + side, h - pad, w - 3 * pad - side, font, False, pad)
    # Code on top, text centred under it (caption, serial, PIN box).
    font = min(10.0, max(5.0, w / 16))
    text_h = 3 * 1.3 * font + 2.6 * font + extra_lines * 1.1 * font
    side = min(w - 2 * pad, h - 2 * pad - text_h)
    if side < 8 * mm:
        raise ValueError("labels are too small for a code and its text")
    return _CellPlan((w - side) / 2, h - pad, side, pad, h - 2 * pad - side, w - 2 * pad, font, True, pad)


def _label_operators(label: Label, matrix: np.ndarray, quiet_zone: int, cell: Cell, plan: _CellPlan) -> str:
    n = max(matrix.shape)
    module = plan.code_side / (n + 2 * quiet_zone)
    x0 = cell.x + plan.code_x + quiet_zone * module
    top = cell.y + plan.code_top - quiet_zone * module
    parts = [code_operators(matrix, x0, top, module)]
    fs, tw = plan.font_size, plan.text_width
    tx, y = cell.x + plan.text_x, cell.y + plan.text_top
    caption, caption_size = _wrap(label.caption, _CAPTION_FONT, fs, tw) if label.caption else ([], fs)
    # Everything must fit above the cell's bottom padding: scale the text down together if it would not.
    needed = 1.45 * (len(caption) * caption_size + len(label.lines) * 0.8 * fs + fs) + (2.7 * fs if label.pin else 0)
    room = plan.text_top - plan.pad
    scale = min(1.0, room / needed) if needed else 1.0
    fs, caption_size = max(4.0, fs * scale), max(4.0, caption_size * scale)
    if scale < 1.0 and label.caption:
        caption, caption_size = _wrap(label.caption, _CAPTION_FONT, caption_size, tw)

    def line(text: str, font: str, size: float) -> None:
        nonlocal y
        text, size = _fit(text, font, size, tw)
        y -= size * 1.15
        dx = (tw - stringWidth(text, _FONTS[font], size)) / 2 if plan.centred else 0.0
        parts.append(_text_op(text, font, size, tx + dx, y))
        y -= size * 0.3

    for text in caption:
        line(text, _CAPTION_FONT, caption_size)
    for text in label.lines:
        line(text, _SMALL_FONT, 0.8 * fs)
    line(label.serial, _SERIAL_FONT, fs)
    if label.pin:
        # PIN area: an outlined box (covered by a scratch-off in production)
        # with a small "PIN" tag and the PIN centred in it.
        box_h = 2.4 * fs
        # side layout: at the bottom of the text column; stacked: right under the serial
        box_top = y - 0.3 * fs if plan.centred else min(y - 0.3 * fs, cell.y + plan.pad + box_h)
        box_y = box_top - box_h
        parts.append(f"0.6 w {_num(tx)} {_num(box_y)} {_num(tw)} {_num(box_h)} re S\n")
        tag_size = 0.55 * fs
        parts.append(_text_op("PIN", _SMALL_FONT, tag_size, tx + 0.25 * fs, box_top - tag_size - 0.15 * fs))
        pin, size = _fit(label.pin, _SERIAL_FONT, 1.1 * fs, tw - 2 * fs)
        pin_x = tx + (tw - stringWidth(pin, _FONTS[_SERIAL_FONT], size)) / 2
        parts.append(_text_op(pin, _SERIAL_FONT, size, pin_x, box_y + (box_h - 0.7 * size) / 2))
    return "".join(parts)


# --------------------------------------------------------------------------
# Streaming PDF writer
# --------------------------------------------------------------------------


class _PdfWriter:
    """Writes numbered objects as they come; only their offsets stay in memory."""

    _CATALOG, _PAGES, _INFO, _RESOURCES = 1, 2, 3, 4

    def __init__(self, out: BinaryIO, compress: bool) -> None:
        self._out = out
        self._pos = 0
        self._offsets: list[int] = [0] * 5  # index = object number; 0 is the free head
        self._pages: list[int] = []
        self._compress = compress
        # Binary comment: tells transfer tools the file is binary.
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._pos += len(data)

    def _object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._pos
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _new_number(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def start(self, title: str | None) -> None:
        fonts = []
        for res_name, base_font in _FONTS.items():
            number = self._new_number()
            self._object(
                number,
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base_font.encode(),
            )
            fonts.append(b"/%s %d 0 R" % (res_name.encode(), number))
        self._object(self._RESOURCES, b"<< /Font << %s >> /ProcSet [/PDF /Text] >>" % b" ".join(fonts))
        info = b"<< /Producer (Serialize)"
        if title:
            info += b" /Title " + _pdf_text(title).encode("latin-1")
        self._object(self._INFO, info + b" >>")

    def page(self, content: str, width: float, height: float) -> None:
        data = content.encode("latin-1")
        extra = b""
        if self._compress:
            data = zlib.compress(data, 6)
            extra = b" /Filter /FlateDecode"
        stream = self._new_number()
        self._object(stream, b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data))
        page = self._new_number()
        self._object(
            page,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources %d 0 R /Contents %d 0 R >>"
            % (self._PAGES, _num(width).encode(), _num(height).encode(), self._RESOURCES, stream),
        )
        self._pages.append(page)

    def finish(self) -> None:
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._object(self._PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)))
        self._object(self._CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % self._PAGES)
        xref_at = self._pos
        rows = [b"xref\n0 %d\n" % len(self._offsets), b"0000000000 65535 f \n"]
        rows.extend(b"%010d 00000 n \n" % off for off in self._offsets[1:])
        self._write(b"".join(rows))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self._offsets), self._CATALOG, self._INFO, xref_at)
        )


def write_label_sheets(
    out: BinaryIO,
    labels: Iterable[Label],
    *,
    symbology: Symbology = "qr",
    layout: SheetLayout | None = None,
    qr_error: Literal["L", "M", "Q", "H"] = "M",
    qr_renderer: QrRenderer | None = None,
    compress: bool = True,
    title: str | None = None,
) -> int:
    """Write ``labels`` as a PDF of label sheets to ``out``; return the page count.

    Labels fill each page's grid in reading order; pages are written (and
    freed) one at a time, so ``labels`` may be a generator of any length.
    QR payloads are rendered with ``qr_renderer`` (default: a
    ``QrRenderer(error=qr_error)``), DataMatrix payloads with
    :func:`codes.symbols.datamatrix_matrix`. ``compress=False`` leaves the
    content streams readable (for tests). Raises ValueError for no labels.
    """
    if symbology not in ("qr", "datamatrix"):
        raise ValueError("symbology must be 'qr' or 'datamatrix'")
    layout = layout or SheetLayout()
    cells = layout.cells()
    page_w, page_h = layout.page_points
    items = iter(labels)
    first_page = list(itertools.islice(items, layout.per_page))
    if not first_page:
        raise ValueError("no labels to write")
    sample = first_page[0]  # labels of one sheet share their caption and HRI lines, and so their plan
    plans = [_plan(cell, len(sample.lines) + (1 if sample.caption else 0)) for cell in cells]
    renderer = qr_renderer or QrRenderer(error=qr_error)
    quiet_zone = QR_QUIET_ZONE if symbology == "qr" else DM_QUIET_ZONE

    writer = _PdfWriter(out, compress)
    writer.start(title)
    pages = 0
    batch = first_page
    while batch:
        parts = ["0 g 0 G\n"]
        for label, cell, plan in zip(batch, cells, plans, strict=False):
            if symbology == "qr":
                matrix = renderer.matrix(label.payload)
            else:
                matrix = datamatrix_matrix(label.payload)
            parts.append(_label_operators(label, matrix, quiet_zone, cell, plan))
        writer.page("".join(parts), page_w, page_h)
        pages += 1
        batch = list(itertools.islice(items, layout.per_page))
    writer.finish()
    return pages
