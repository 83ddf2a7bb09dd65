"""Tests for codes.labels: streamed, vector PDF label sheets."""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from codes.labels import Label, SheetLayout, _plan, code_operators, write_label_sheets
from codes.symbols import DM_QUIET_ZONE, QR_QUIET_ZONE, QrRenderer, datamatrix_matrix

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TEMPLATE = "https://verify.example.com/01/09506000134352/10/L2026A/21/{}?17=271231"
GS1_PREFIX = "0109506000134352172712311010L2026A\x1d21"
DPI = 300

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")


def serials(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(12)) for _ in range(n)]


def qr_labels(n: int, seed: int = 0, **extra: str) -> list[Label]:
    return [Label(TEMPLATE.format(s), s, **extra) for s in serials(n, seed)]


def dm_labels(n: int, seed: int = 0) -> list[Label]:
    return [Label(GS1_PREFIX + s, s, caption="Pharma 20 tabs", pin="4711") for s in serials(n, seed)]


def pdf_bytes(labels: list[Label] | Iterator[Label], **kw: object) -> bytes:
    buf = io.BytesIO()
    write_label_sheets(buf, labels, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def rasterise(pdf: bytes, tmp_path: Path, page: int = 1, dpi: int = DPI) -> Image.Image:
    src = tmp_path / "sheet.pdf"
    src.write_bytes(pdf)
    out = tmp_path / f"page{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-gray", "-f", str(page), "-l", str(page), "-singlefile", src, out],
        check=True,
        capture_output=True,
    )
    return Image.open(f"{out}.png").convert("L")


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


# --------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n,expected", [(1, 1), (24, 1), (25, 2), (48, 2), (49, 3)])
def test_page_count(n: int, expected: int) -> None:
    buf = io.BytesIO()
    assert write_label_sheets(buf, qr_labels(n)) == expected
    pdf = buf.getvalue()
    assert page_count(pdf) == expected
    assert re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", pdf).group(1) == str(expected).encode()


def test_custom_grid_page_count() -> None:
    layout = SheetLayout(page_size="LETTER", columns=2, rows=5)
    assert write_label_sheets(io.BytesIO(), qr_labels(21), layout=layout) == 3


def test_no_labels_is_an_error_and_writes_nothing() -> None:
    buf = io.BytesIO()
    with pytest.raises(ValueError):
        write_label_sheets(buf, [])
    assert buf.getvalue() == b""


def test_xref_offsets_point_at_objects() -> None:
    pdf = pdf_bytes(qr_labels(30, pin="123456"))
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[start:].startswith(b"xref\n")
    header = re.match(rb"xref\n0 (\d+)\n", pdf[start:])
    count = int(header.group(1))
    rows = pdf[start + header.end() :].split(b"\n")[:count]
    assert rows[0] == b"0000000000 65535 f "
    for number, row in enumerate(rows[1:], start=1):
        offset = int(row[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"/Size %d " % count, pdf)


def test_vector_only_no_images() -> None:
    for symbology, labels in (("qr", qr_labels(5)), ("datamatrix", dm_labels(5))):
        pdf = pdf_bytes(labels, symbology=symbology, compress=False)
        assert b"/Subtype /Image" not in pdf
        assert b"/XObject" not in pdf and b" Do" not in pdf and b"BI " not in pdf
        assert b" re\n" in pdf and b"\nf\n" in pdf


def test_compressed_streams_inflate_to_the_same_content() -> None:
    labels = qr_labels(3, pin="000111")
    plain = pdf_bytes(labels, compress=False)
    packed = pdf_bytes(labels, compress=True)
    assert len(packed) < len(plain) / 2
    (stream,) = re.findall(rb"/FlateDecode >>\nstream\n(.*?)\nendstream", packed, re.S)
    (raw,) = re.findall(rb"<< /Length \d+ >>\nstream\n(.*?)\nendstream", plain, re.S)
    assert zlib.decompress(stream) == raw


def test_code_operators_one_rect_per_run() -> None:
    m = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    ops = code_operators(m, 10, 100, 2)
    assert ops == "q 2 0 0 -2 10 100 cm\n0 0 2 1 re\n3 0 1 1 re\n0 2 4 1 re\nf\nQ\n"


def test_layout_cells_grid() -> None:
    layout = SheetLayout(page_size="A4", columns=3, rows=8, margins_mm=(10, 8, 12, 6), gap_mm=(3, 2))
    cells = layout.cells()
    assert len(cells) == 24
    mm = 72 / 25.4
    assert cells[0].x == pytest.approx(6 * mm)
    assert cells[0].y + cells[0].height == pytest.approx(layout.page_points[1] - 10 * mm)
    assert cells[-1].x + cells[-1].width == pytest.approx(layout.page_points[0] - 8 * mm)
    assert cells[-1].y == pytest.approx(12 * mm)
    assert cells[1].x - (cells[0].x + cells[0].width) == pytest.approx(3 * mm)
    assert cells[0].y - (cells[3].y + cells[3].height) == pytest.approx(2 * mm)
    assert len({round(c.x, 6) for c in cells}) == 3 and len({round(c.y, 6) for c in cells}) == 8


@pytest.mark.parametrize(
    "layout",
    [
        SheetLayout(page_size="A4", columns=30, rows=8),
        SheetLayout(page_size=(50, 50), columns=1, rows=1, margins_mm=30),
        SheetLayout(page_size="A5"),
        SheetLayout(columns=0),
    ],
)
def test_bad_layouts_rejected(layout: SheetLayout) -> None:
    with pytest.raises(ValueError):
        write_label_sheets(io.BytesIO(), qr_labels(1), layout=layout)


def test_bounded_memory_streaming() -> None:
    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.size = 0

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.size += len(b)
            return len(b)

    renderer = QrRenderer(TEMPLATE.format("0" * 12))

    def peak(pages: int) -> tuple[int, int]:
        def gen() -> Iterator[Label]:  # labels are made lazily, never listed
            for s in serials(24 * pages, seed=pages):
                yield Label(TEMPLATE.format(s), s, pin="123456")

        sink = Sink()
        tracemalloc.start()
        write_label_sheets(sink, gen(), qr_renderer=renderer)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top, sink.size

    small, small_size = peak(5)
    large, large_size = peak(40)
    assert large_size > 7 * small_size  # 8x the output ...
    assert large < small * 1.5 + 200_000  # ... in about the same memory


# --------------------------------------------------------------------------
# Rendering: rasterise with poppler and scan with zxing-cpp
# --------------------------------------------------------------------------


def _cell_box_px(cell, page_h: float) -> tuple[float, float, float, float]:
    k = DPI / 72
    return cell.x * k, (page_h - cell.y - cell.height) * k, (cell.x + cell.width) * k, (page_h - cell.y) * k


@needs_poppler
@pytest.mark.parametrize(
    "layout",
    [SheetLayout(), SheetLayout(page_size="LETTER", columns=4, rows=10, margins_mm=(12.7, 5, 12.7, 5), gap_mm=3)],
)
def test_qr_page_scans_every_code_in_its_cell(layout: SheetLayout, tmp_path: Path) -> None:
    labels = qr_labels(layout.per_page, seed=layout.columns, caption="Ch\u00e2teau Example 75cl", pin="482915")
    page = rasterise(pdf_bytes(labels, layout=layout), tmp_path)
    for got, points in zip(page.size, layout.page_points, strict=True):
        assert abs(got - points / 72 * DPI) <= 1  # poppler rounds up
    found = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
    assert sorted(b.text for b in found) == sorted(label.payload for label in labels)
    # Grid: each code lies inside the cell of its label (reading order).
    page_h = layout.page_points[1]
    by_text = {b.text: b for b in found}
    for label, cell in zip(labels, layout.cells(), strict=True):
        x0, y0, x1, y1 = _cell_box_px(cell, page_h)
        pos = by_text[label.payload].position
        for corner in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right):
            assert x0 <= corner.x <= x1 and y0 <= corner.y <= y1


@needs_poppler
def test_datamatrix_page_scans_as_gs1(tmp_path: Path) -> None:
    layout = SheetLayout(page_size="A4", columns=4, rows=6)
    labels = dm_labels(layout.per_page + 3)  # 2 pages
    pdf = pdf_bytes(labels, symbology="datamatrix", layout=layout)
    assert page_count(pdf) == 2
    for page_no, expected in ((1, labels[: layout.per_page]), (2, labels[layout.per_page :])):
        page = rasterise(pdf, tmp_path, page=page_no)
        found = zxingcpp.read_barcodes(
            page, formats=zxingcpp.BarcodeFormat.DataMatrix, text_mode=zxingcpp.TextMode.Plain
        )
        assert sorted(b.text for b in found) == sorted(label.payload for label in expected)
        assert {b.symbology_identifier for b in found} == {"]d2"}


@needs_poppler
@pytest.mark.parametrize("symbology", ["qr", "datamatrix"])
@pytest.mark.parametrize("page_size", [(120, 120), (150, 60)])  # stacked and side-by-side layouts
def test_vector_modules_land_exactly_on_the_grid(symbology: str, page_size: tuple[int, int], tmp_path: Path) -> None:
    # Sample every module centre of the rendering and compare with the matrix
    # (catches mirrored, transposed, shifted or mis-scaled drawing).
    layout = SheetLayout(page_size=page_size, columns=1, rows=1, margins_mm=5)
    if symbology == "qr":
        label = qr_labels(1, pin="123")[0]
        matrix, qz = QrRenderer().matrix(label.payload), QR_QUIET_ZONE
    else:
        label = dm_labels(1)[0]
        matrix, qz = datamatrix_matrix(label.payload), DM_QUIET_ZONE
    page = np.array(rasterise(pdf_bytes([label], symbology=symbology, layout=layout), tmp_path)) < 128
    cell = layout.cells()[0]
    plan = _plan(cell, len(label.lines) + (1 if label.caption else 0))
    module = plan.code_side / (max(matrix.shape) + 2 * qz)
    x0 = cell.x + plan.code_x + qz * module
    top = cell.y + plan.code_top - qz * module
    k = DPI / 72
    page_h = layout.page_points[1]
    rows = ((page_h - top + (np.arange(matrix.shape[0]) + 0.5) * module) * k).astype(int)
    cols = ((x0 + (np.arange(matrix.shape[1]) + 0.5) * module) * k).astype(int)
    assert np.array_equal(page[np.ix_(rows, cols)], matrix)
    # The quiet zone around the code is blank.
    q0, q1 = int((page_h - top - qz * module) * k) + 2, int((page_h - top) * k) - 2
    assert not page[q0:q1, int((x0 - qz * module) * k) + 2 : int((x0 + matrix.shape[1] * module) * k)].any()


@needs_poppler
def test_text_is_extractable(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    labels = [
        Label(TEMPLATE.format("7KQ3M9X2VD4H"), "7KQ3M9X2VD4H", caption="Caf\u00e9 (Lot A) \\ 1", pin="918273"),
        Label(TEMPLATE.format("ZZZZZZZZZZZZ"), "ZZZZZZZZZZZZ"),
    ]
    src = tmp_path / "t.pdf"
    src.write_bytes(pdf_bytes(labels))
    text = subprocess.run(["pdftotext", "-layout", src, "-"], check=True, capture_output=True, text=True).stdout
    for needle in ("7KQ3M9X2VD4H", "ZZZZZZZZZZZZ", "918273", "PIN", "Caf\u00e9 (Lot A) \\ 1"):
        assert needle in text
