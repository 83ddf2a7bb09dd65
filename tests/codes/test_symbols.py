"""Tests for codes.symbols: QR (fast segno-identical renderer) and GS1 DataMatrix."""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from segno import encoder as segno_encoder

from codes.symbols import (
    QR_QUIET_ZONE,
    QrRenderer,
    _mask_penalties,
    dark_runs,
    datamatrix_matrix,
    datamatrix_png,
    png_from_matrix,
    svg_from_matrix,
)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TEMPLATE = "https://verify.example.com/01/09506000134352/10/L2026A/21/{}?17=271231"
GS1_PREFIX = "0109506000134352172712311010L2026A\x1d21"
ROOT = Path(__file__).resolve().parents[2]


def serial(rng: random.Random, length: int = 12) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def segno_matrix(content: str, **kw: object) -> np.ndarray:
    qr = segno.make(content, micro=False, **kw)
    return np.array([list(row) for row in qr.matrix], dtype=bool)


def read(image: Image.Image, fmt: zxingcpp.BarcodeFormat, **kw: object) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=fmt, **kw)


def read_qr_png(png: bytes) -> list[zxingcpp.Barcode]:
    image = Image.open(io.BytesIO(png))
    return read(image, zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_invert=False, try_downscale=False)


# --------------------------------------------------------------------------
# QR: identical to segno
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def renderer() -> QrRenderer:
    return QrRenderer(TEMPLATE.format("7KQ3M9X2VD4H"), error="M")


def test_matrix_identical_to_segno_for_random_serials(renderer: QrRenderer) -> None:
    rng = random.Random(1)
    for _ in range(300):
        url = TEMPLATE.format(serial(rng))
        assert np.array_equal(renderer.matrix(url), segno_matrix(url, error="m"))


@pytest.mark.parametrize("error", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("boost", [True, False])
def test_matrix_identical_to_segno_all_levels(error: str, boost: bool) -> None:
    rng = random.Random(error + str(boost))
    r = QrRenderer(TEMPLATE.format("0" * 12), error=error, boost_error=boost)  # type: ignore[arg-type]
    for _ in range(25):
        url = TEMPLATE.format(serial(rng))
        assert np.array_equal(r.matrix(url), segno_matrix(url, error=error, boost_error=boost))


@pytest.mark.parametrize(
    "url",
    [
        "https://x.co/1",  # tiny: version 1
        "HTTPS://ID.EXAMPLE.COM/01/09506000134352/21/7KQ3M9X2VD4H",  # alphanumeric mode
        "HTTPS://ID.EXAMPLE.COM/01/09506000134352/21/7KQ3M9X2VD4",  # odd alnum length
        "https://verify.example.com/" + "a" * 300,  # version >= 10: 16-bit count
        "https://verify.example.com/" + "B" * 1200,  # large version with version info
        "https://verify.example.com/01/09506000134352/21/ünïcode",  # non-ASCII: segno fallback
        "12345678901234",  # numeric: segno fallback
    ],
)
def test_other_shapes_and_modes_identical_to_segno(url: str) -> None:
    r = QrRenderer(error="M")
    assert np.array_equal(r.matrix(url), segno_matrix(url, error="m"))


def test_one_renderer_handles_several_shapes(renderer: QrRenderer) -> None:
    for url in (TEMPLATE.format("SHORT"), TEMPLATE.format("A" * 30), "https://e.com/" + "z" * 150):
        assert np.array_equal(renderer.matrix(url), segno_matrix(url, error="m"))


@pytest.mark.parametrize("mask", range(8))
def test_fixed_mask_identical_to_segno(mask: int) -> None:
    url = TEMPLATE.format("7KQ3M9X2VD4H")
    r = QrRenderer(url, mask=mask)
    assert np.array_equal(r.matrix(url), segno_matrix(url, error="m", mask=mask))


def test_version_and_error_reported(renderer: QrRenderer) -> None:
    url = TEMPLATE.format("7KQ3M9X2VD4H")
    qr = segno.make(url, error="m", micro=False)
    assert renderer.version(url) == qr.version
    assert renderer.error_for(url) == qr.error.upper()


def _segno_style(cand: np.ndarray) -> list[int]:
    n = cand.shape[1]
    return [segno_encoder.evaluate_mask(tuple(bytearray(r) for r in c.tolist()), n, n) for c in cand]


def test_mask_penalties_equal_segno_on_random_matrices() -> None:
    rng = np.random.default_rng(7)
    pattern = [1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1]  # 1011101 twice, overlapping by 1 (shift 6)
    pattern4 = [1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1]  # overlapping by 3 (shift 4)
    for it in range(400):
        n = int(rng.choice([21, 25, 29, 37, 45, 57]))
        cand = (rng.random((8, n, n)) < rng.uniform(0.15, 0.85)).astype(np.uint8)
        for _ in range(it % 6):  # plant overlapping finder-like patterns (segno's skip rule)
            k, row = rng.integers(8), rng.integers(n)
            pat = pattern if rng.random() < 0.5 else pattern4
            col = int(rng.integers(0, n - len(pat)))
            cand[k, row, col : col + len(pat)] = pat
            cand[k, row, max(col - 4, 0) : col] = 0
            if rng.random() < 0.5:
                cand[k] = cand[k].T.copy()
        assert _mask_penalties(cand.astype(bool)) == _segno_style(cand)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from([21, 25, 33]))
def test_mask_penalties_property(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cand = (rng.random((8, n, n)) < 0.5).astype(np.uint8)
    assert _mask_penalties(cand.astype(bool)) == _segno_style(cand)


# --------------------------------------------------------------------------
# QR: every code scans
# --------------------------------------------------------------------------


def test_thousands_of_random_serials_scan() -> None:
    r = QrRenderer(TEMPLATE.format("7KQ3M9X2VD4H"), scale=2)
    rng = random.Random(2024)
    for _ in range(2000):
        url = TEMPLATE.format(serial(rng))
        results = read_qr_png(r.png(url))
        assert [b.text for b in results] == [url]


@pytest.mark.parametrize("mask", range(8))
def test_codes_scan_with_every_fixed_mask(mask: int) -> None:
    # Evidence for the "fixed mask per batch" option: any mask decodes.
    r = QrRenderer(TEMPLATE.format("7KQ3M9X2VD4H"), scale=2, mask=mask)
    rng = random.Random(mask)
    for _ in range(150):
        url = TEMPLATE.format(serial(rng))
        assert [b.text for b in read_qr_png(r.png(url))] == [url]


def test_png_pixels_match_matrix(renderer: QrRenderer) -> None:
    url = TEMPLATE.format("7KQ3M9X2VD4H")
    matrix = renderer.matrix(url)
    image = Image.open(io.BytesIO(renderer.png(url)))
    scale = renderer.scale
    n = matrix.shape[0] + 2 * QR_QUIET_ZONE
    assert image.size == (n * scale, n * scale)
    assert image.mode == "1"
    pixels = np.array(image.convert("L")) < 128
    expected = np.pad(matrix, QR_QUIET_ZONE).repeat(scale, 0).repeat(scale, 1)
    assert np.array_equal(pixels, expected)


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_png_scale_and_odd_widths(scale: int) -> None:
    matrix = np.random.default_rng(scale).random((21, 21)) < 0.5
    image = Image.open(io.BytesIO(png_from_matrix(matrix, scale=scale, border=4)))
    assert image.size == (29 * scale, 29 * scale)
    pixels = np.array(image.convert("L")) < 128
    assert np.array_equal(pixels, np.pad(matrix, 4).repeat(scale, 0).repeat(scale, 1))


def _svg_to_matrix(svg: bytes) -> np.ndarray:
    root = ET.fromstring(svg)
    _, _, w, h = map(int, root.attrib["viewBox"].split())
    out = np.zeros((h, w), dtype=bool)
    paths = [p for p in root if p.attrib.get("fill") == "#000"]
    assert len(paths) == 1  # one path for all dark modules
    tokens = re.findall(r"[MmhvzH]|-?\d+", paths[0].attrib["d"])
    i = x = y = sx = sy = 0
    while i < len(tokens):
        t = tokens[i]
        if t in "Mm":
            dx, dy = int(tokens[i + 1]), int(tokens[i + 2])
            x, y = (dx, dy) if t == "M" else (x + dx, y + dy)
            sx, sy = x, y
            i += 3
        elif t == "h":
            k = int(tokens[i + 1])
            if k > 0:
                out[y, x : x + k] = True
            x += k
            i += 2
        elif t == "v":
            y += int(tokens[i + 1])
            i += 2
        elif t == "z":
            x, y = sx, sy
            i += 1
        else:  # pragma: no cover
            raise AssertionError(t)
    return out


def test_svg_path_reproduces_matrix(renderer: QrRenderer) -> None:
    rng = random.Random(3)
    for _ in range(50):
        url = TEMPLATE.format(serial(rng))
        svg = renderer.svg(url)
        root = ET.fromstring(svg)
        n = renderer.matrix(url).shape[0] + 2 * QR_QUIET_ZONE
        assert root.attrib["width"] == str(n * renderer.scale)
        assert np.array_equal(_svg_to_matrix(svg), np.pad(renderer.matrix(url), QR_QUIET_ZONE))


def test_svg_transparent_and_colours() -> None:
    svg = svg_from_matrix(np.eye(5, dtype=bool), light=None, dark="#123456").decode()
    assert 'fill="#fff"' not in svg and 'fill="#123456"' in svg


def test_svg_scans_when_rasterised_via_runs(renderer: QrRenderer) -> None:
    url = TEMPLATE.format("7KQ3M9X2VD4H")
    img = (~_svg_to_matrix(renderer.svg(url))).astype(np.uint8) * 255
    image = Image.fromarray(img.repeat(4, 0).repeat(4, 1))
    assert [b.text for b in read(image, zxingcpp.BarcodeFormat.QRCode)] == [url]


def test_dark_runs() -> None:
    m = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    rows, cols, lengths = dark_runs(m)
    assert list(zip(rows.tolist(), cols.tolist(), lengths.tolist(), strict=True)) == [
        (0, 0, 2),
        (0, 3, 1),
        (2, 0, 4),
    ]


@pytest.mark.parametrize("kwargs", [{"error": "X"}, {"scale": 0}, {"mask": 8}])
def test_renderer_rejects_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        QrRenderer(**kwargs)  # type: ignore[arg-type]


def test_too_long_payload_rejected() -> None:
    with pytest.raises(ValueError):
        QrRenderer(error="H").matrix("https://e.com/" + "x" * 3000)


# --------------------------------------------------------------------------
# GS1 DataMatrix
# --------------------------------------------------------------------------


def read_dm(matrix: np.ndarray, module: int = 4, border: int = 2) -> list[zxingcpp.Barcode]:
    image = Image.fromarray((~np.pad(matrix, border)).astype(np.uint8).repeat(module, 0).repeat(module, 1) * 255)
    return read(image, zxingcpp.BarcodeFormat.DataMatrix, text_mode=zxingcpp.TextMode.Plain)


def assert_gs1(results: list[zxingcpp.Barcode], element_string: str) -> None:
    assert len(results) == 1
    (b,) = results
    assert b.bytes == element_string.encode("ascii")
    assert b.text == element_string  # GS stays \x1d in plain text mode
    assert b.symbology_identifier == "]d2"  # GS1 DataMatrix (plain would be ]d1)
    assert b.content_type == zxingcpp.ContentType.GS1


def test_datamatrix_is_gs1_for_random_serials() -> None:
    rng = random.Random(5)
    for _ in range(300):
        data = GS1_PREFIX + serial(rng)
        assert_gs1(read_dm(datamatrix_matrix(data)), data)


def test_datamatrix_hri_text() -> None:
    data = GS1_PREFIX + "7KQ3M9X2VD4H"
    (b,) = read(Image.open(io.BytesIO(datamatrix_png(data))), zxingcpp.BarcodeFormat.DataMatrix)
    assert b.text == "(01)09506000134352(17)271231(10)10L2026A(21)7KQ3M9X2VD4H"


def test_datamatrix_without_our_fnc1_would_be_plain() -> None:
    # Control: the same bytes through pylibdmtx's plain encode() read as ]d1.
    import pylibdmtx.pylibdmtx as dmtx

    enc = dmtx.encode(GS1_PREFIX.encode() + b"7KQ3M9X2VD4H")
    image = Image.frombytes("RGB", (enc.width, enc.height), enc.pixels)
    (b,) = read(image, zxingcpp.BarcodeFormat.DataMatrix)
    assert b.symbology_identifier == "]d1"


gs1_values = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh-./", min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["10", "21", "22", "240", "91", "92"]), gs1_values), min_size=1, max_size=4))
def test_datamatrix_variable_fields(fields: list[tuple[str, str]]) -> None:
    # Digits next to the separators stress libdmtx's digit-pair compaction.
    data = "01095060001343521727123" + "1" + "\x1d".join(ai + v for ai, v in fields)
    for scheme in ("ascii", "auto"):
        assert_gs1(read_dm(datamatrix_matrix(data, scheme=scheme)), data)  # type: ignore[arg-type]


def test_datamatrix_auto_scheme_is_not_larger() -> None:
    data = GS1_PREFIX + "7KQ3M9X2VD4H"
    ascii_m, auto_m = datamatrix_matrix(data), datamatrix_matrix(data, scheme="auto")
    assert auto_m.shape[0] <= ascii_m.shape[0]
    assert_gs1(read_dm(auto_m), data)


def test_datamatrix_rectangle() -> None:
    data = GS1_PREFIX + "7KQ3M9X2VD4H"
    m = datamatrix_matrix(data, shape="rectangle")
    assert m.shape[0] < m.shape[1]
    assert_gs1(read_dm(m), data)


def test_datamatrix_finder_pattern_orientation() -> None:
    m = datamatrix_matrix(GS1_PREFIX + "7KQ3M9X2VD4H")
    assert m[:, 0].all() and m[-1, :].all()  # solid L: left column, bottom row
    assert m[0, ::2].all() and not m[0, 1::2].any()  # clock track on top
    assert m[1::2, -1].all() and not m[::2, -1].any()  # clock track on the right


@pytest.mark.parametrize("module_size,quiet_zone", [(1, 1), (4, 2), (6, 4)])
def test_datamatrix_png(module_size: int, quiet_zone: int) -> None:
    data = GS1_PREFIX + "7KQ3M9X2VD4H"
    n = datamatrix_matrix(data).shape[0]
    image = Image.open(io.BytesIO(datamatrix_png(data, module_size=module_size, quiet_zone=quiet_zone)))
    assert image.size == ((n + 2 * quiet_zone) * module_size,) * 2
    if module_size > 1:
        assert_gs1(read(image, zxingcpp.BarcodeFormat.DataMatrix, text_mode=zxingcpp.TextMode.Plain), data)


@pytest.mark.parametrize("bad", ["", "\x1d0109506000134352", "01095060001343521\u00e9"])
def test_datamatrix_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        datamatrix_matrix(bad)


def test_datamatrix_rejects_too_long_and_bad_quiet_zone() -> None:
    with pytest.raises(ValueError):
        datamatrix_matrix("10" + "A" * 3000)
    with pytest.raises(ValueError):
        datamatrix_png(GS1_PREFIX + "X", quiet_zone=0)


def test_modules_do_not_import_django() -> None:
    code = "import sys, codes.symbols, codes.labels; sys.exit(any(m.startswith('django') for m in sys.modules))"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
