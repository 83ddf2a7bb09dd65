"""QR code and GS1 DataMatrix rendering (pure functions, no Django).

QR: :class:`QrRenderer` produces exactly the symbol ``segno.make(url,
error=..., micro=False)`` would produce (same version, error level, data mask and
modules), but several times faster per code, because everything that depends only
on the *shape* of the payload (version, error level, block structure, module
placement order, function patterns) is computed once per shape and cached, and the
per-code work (Reed-Solomon, masking, the ISO 18004 mask penalty of all 8 masks,
PNG/SVG writing) is vectorised with numpy.

DataMatrix: :func:`datamatrix_matrix` / :func:`datamatrix_png` encode a GS1
element string with libdmtx (through pylibdmtx's ctypes bindings) starting with
FNC1, so scanners report it as GS1 DataMatrix (symbology identifier ``]d2``).

All ``matrix`` functions return a 2-D numpy bool array, ``True`` = dark module,
WITHOUT quiet zone; renderers add the quiet zone themselves.
"""

from __future__ import annotations

import ctypes
import functools
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import segno
from segno import consts as _sc  # its tables are untyped: read as Any below
from segno import encoder as _se

with warnings.catch_warnings():
    # pylibdmtx 0.1.10 compares versions with distutils' deprecated LooseVersion.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pylibdmtx import wrapper as _dmtx

__all__ = [
    "DM_QUIET_ZONE",
    "QR_QUIET_ZONE",
    "QrRenderer",
    "dark_runs",
    "datamatrix_matrix",
    "datamatrix_png",
    "png_from_matrix",
    "svg_from_matrix",
]

ErrorLevel = Literal["L", "M", "Q", "H"]

#: Quiet zone (modules) around every QR code; ISO/IEC 18004 requires 4.
QR_QUIET_ZONE = 4
#: Default quiet zone (modules) around a DataMatrix; ISO/IEC 16022 requires >= 1.
DM_QUIET_ZONE = 2


# --------------------------------------------------------------------------
# Shared raster / vector writers
# --------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_from_matrix(
    matrix: np.ndarray, *, scale: int = 4, border: int = QR_QUIET_ZONE, compresslevel: int = 6
) -> bytes:
    """Write a bool module matrix (True = dark) as a 1-bit greyscale PNG.

    ``scale`` is pixels per module, ``border`` the quiet zone in modules.
    """
    if scale < 1 or border < 0:
        raise ValueError("scale must be >= 1 and border >= 0")
    rows, cols = matrix.shape
    light = np.ones((rows + 2 * border, cols + 2 * border), dtype=bool)
    light[border : border + rows, border : border + cols] = ~matrix
    height, width = light.shape[0] * scale, light.shape[1] * scale
    # Pack one pixel row per module row, then repeat it ``scale`` times; the
    # trailing pad bits of the last byte are ignored by PNG readers.
    packed = np.packbits(np.repeat(light, scale, axis=1), axis=1)
    raw = np.zeros((height, packed.shape[1] + 1), dtype=np.uint8)  # column 0: filter "None"
    raw[:, 1:] = np.repeat(packed, scale, axis=0)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), compresslevel)),
            _PNG_IEND,
        )
    )


def dark_runs(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of dark modules: ``(row, first_column, length)`` arrays.

    Used to draw a symbol with one rectangle per run instead of one per module.
    """
    rows, cols = matrix.shape
    padded = np.zeros((rows, cols + 2), dtype=np.int8)
    padded[:, 1:-1] = matrix
    edges = np.diff(padded, axis=1)  # +1 where a run starts, -1 one past its end
    r_start, c_start = np.nonzero(edges == 1)
    _, c_end = np.nonzero(edges == -1)  # same row-major order as the starts
    return r_start, c_start, c_end - c_start


@functools.lru_cache(maxsize=16)
def _svg_tokens(width: int) -> list[str]:
    """Path snippets for every (x, y), (dx, k) and k below ``width``.

    Formatting one f-string per run dominated SVG writing; looking the snippets
    up by a numpy-computed index and joining them is ~5x faster.
    """
    moves = [f"m{dx} 0h{k}v1h-{k}z" for dx in range(width) for k in range(width)]
    starts = [f"M{x} {y}" for y in range(width) for x in range(width)]
    rects = [f"h{k}v1h-{k}z" for k in range(width)]
    return moves + starts + rects


def svg_from_matrix(
    matrix: np.ndarray,
    *,
    scale: float = 4,
    border: int = QR_QUIET_ZONE,
    dark: str = "#000",
    light: str | None = "#fff",
) -> bytes:
    """Write a bool module matrix as a compact SVG: one ``<path>`` of run rectangles.

    Coordinates are in modules (``viewBox``); ``scale`` sets width/height in px.
    ``light=None`` leaves the background transparent.
    """
    rows, cols = matrix.shape
    w, h = cols + 2 * border, rows + 2 * border
    size = max(w, h)
    tokens = _svg_tokens(size)
    r, c, k = dark_runs(matrix)
    r += border
    c += border
    # First run of a row: absolute "M x y" + rect; later runs: relative "m dx 0"
    # from the previous run's start (where "z" leaves the current point).
    first = np.ones(r.shape, dtype=bool)
    first[1:] = r[1:] != r[:-1]
    dx = np.empty_like(c)
    if c.size:
        dx[0] = 0
        dx[1:] = c[1:] - c[:-1]
    idx = np.empty((r.size, 2), dtype=np.intp)
    idx[:, 0] = np.where(first, size * size + r * size + c, dx * size + k)
    idx[:, 1] = np.where(first, 2 * size * size + k, -1)
    flat = idx.ravel()
    d = "".join([tokens[i] for i in flat[flat >= 0].tolist()])
    background = f'<path fill="{light}" d="M0 0h{w}v{h}H0z"/>' if light else ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * scale:g}" height="{h * scale:g}" '
        f'viewBox="0 0 {w} {h}" shape-rendering="crispEdges">{background}'
        f'<path fill="{dark}" d="{d}"/></svg>'
    )
    return svg.encode("ascii")


# --------------------------------------------------------------------------
# QR code
# --------------------------------------------------------------------------

_ERROR_LEVELS: dict[str, int] = {
    "L": _sc.ERROR_LEVEL_L,
    "M": _sc.ERROR_LEVEL_M,
    "Q": _sc.ERROR_LEVEL_Q,
    "H": _sc.ERROR_LEVEL_H,
}
_ERROR_ORDER = (_sc.ERROR_LEVEL_L, _sc.ERROR_LEVEL_M, _sc.ERROR_LEVEL_Q, _sc.ERROR_LEVEL_H)
_ERROR_NAMES = {v: k for k, v in _ERROR_LEVELS.items()}

_ALNUM_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_VALUE = {ch: i for i, ch in enumerate(_ALNUM_CHARS)}
_ALNUM_RE = re.compile(r"[0-9A-Z $%*+\-./:]*")
_N3_PATTERN = 0b1011101  # dark:light:dark:dark:dark:light:dark (1:1:3:1:1)


def _gf_tables() -> tuple[list[int], list[int], np.ndarray]:
    """GF(256) with QR's primitive polynomial 0x11d: exp, log and a full product table."""
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    exp_a = np.array(exp, dtype=np.uint8)
    log_a = np.array(log, dtype=np.int32)
    mul = exp_a[(log_a[:, None] + log_a[None, :]) % 255]
    mul[0, :] = 0
    mul[:, 0] = 0
    return exp, log, mul


_GF_EXP, _GF_LOG, _GF_MUL = _gf_tables()


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _GF_EXP[_GF_LOG[a] + _GF_LOG[b]]


def _rs_unit_responses(num_data: int, num_ec: int) -> np.ndarray:
    """Matrix G (num_data x num_ec): the EC codewords of a block whose only
    non-zero data codeword is a 1 at position i.

    Reed-Solomon is linear, so EC(d) = XOR_i d_i * G[i] (products in GF(256)):
    one table lookup and one xor-reduce per code instead of a division loop.
    """
    gen = [1]  # generator polynomial prod(x - a^i), highest degree first
    for i in range(num_ec):
        nxt = gen + [0]
        for j, coef in enumerate(gen):
            nxt[j + 1] ^= _gf_mul(coef, _GF_EXP[i])
        gen = nxt
    low = gen[1:]  # x^num_ec == low (mod gen) in characteristic 2
    rems = np.zeros((num_data, num_ec), dtype=np.uint8)
    rem = list(low)  # x^num_ec mod gen
    # Data codeword i (0 = first) multiplies x^(num_ec + num_data - 1 - i).
    for i in range(num_data - 1, -1, -1):
        rems[i] = rem
        top = rem[0]
        rem = rem[1:] + [0]
        if top:
            rem = [r ^ _gf_mul(top, g) for r, g in zip(rem, low, strict=True)]
    return rems


def _mask_functions(n: int) -> np.ndarray:
    """The 8 QR data mask patterns (ISO/IEC 18004 table 10) as (8, n, n) uint8."""
    i, j = np.indices((n, n))
    ij = i * j
    return np.array(
        [
            (i + j) % 2 == 0,
            i % 2 == 0,
            j % 3 == 0,
            (i + j) % 3 == 0,
            (i // 2 + j // 3) % 2 == 0,
            (ij % 2) + (ij % 3) == 0,
            ((ij % 2) + (ij % 3)) % 2 == 0,
            (((i + j) % 2) + (ij % 3)) % 2 == 0,
        ],
        dtype=np.uint8,
    )


def _n3_sequential(line: list[int]) -> int:
    """segno's exact N3 scan of one row/column (used only when matches overlap)."""
    size = len(line)
    seq = bytes(line)
    pattern = b"\x01\x00\x01\x01\x01\x00\x01"
    count = 0
    idx = seq.find(pattern)
    while idx != -1:
        offset = idx + 7
        if not any(seq[max(idx - 4, 0) : idx]) or not any(seq[offset : min(offset + 4, size)]):
            count += 40
        else:
            offset = idx + 4
        idx = seq.find(pattern, offset)
    return count


@functools.lru_cache(maxsize=64)
def _penalty_geometry(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validity masks for the flat arrays used by :func:`_mask_penalties`.

    ``same_line``: position p and p+1 are both real modules of one padded line.
    ``block``: p is the top-left corner of a 2x2 block inside one candidate.
    """
    width = n + 8
    col = np.arange(8 * 2 * n * width) % width
    same_line = (col >= 4) & (col < n + 3)
    rc = np.arange(8 * n * n) % (n * n)
    block = (rc % n < n - 1) & (rc // n < n - 1)
    return same_line, block


def _mask_penalties(cand: np.ndarray) -> list[int]:
    """ISO/IEC 18004 section 7.8.3 penalty (N1+N2+N3+N4) of each of the 8 candidates.

    Mirrors segno's evaluation exactly (so the chosen mask is the one segno would
    choose), but scores all candidates at once. Every row and column of every
    candidate becomes one line of a flat bool array, with 4 light modules of
    padding on each side, so each rule is a handful of shifted-slice operations.
    """
    k, n, _ = cand.shape
    width = n + 8
    total = k * 2 * n * width
    same_line, block_ok = _penalty_geometry(n)
    flat = np.zeros(total + 16, dtype=bool)
    lines = flat[:total].reshape(k, 2 * n, width)
    lines[:, :n, 4 : n + 4] = cand
    lines[:, n:, 4 : n + 4] = cand.transpose(0, 2, 1)
    # N1: a run of L >= 5 same-coloured modules scores L - 2, i.e. one point per
    # 5-module window inside the run (L - 4) plus 2 for the run's first window.
    eq = np.zeros(total + 3, dtype=bool)
    np.equal(flat[:total], flat[1 : total + 1], out=eq[:total])
    eq[:total] &= same_line
    win5 = eq[:total] & eq[1 : total + 1] & eq[2 : total + 2] & eq[3 : total + 3]
    first = np.empty(total, dtype=bool)
    first[0] = True
    np.logical_not(eq[: total - 1], out=first[1:])
    # (count_nonzero is much faster than sum() on bool arrays)
    n1 = np.count_nonzero(win5.reshape(k, -1), axis=1) + 2 * np.count_nonzero((win5 & first).reshape(k, -1), axis=1)
    # N2: 3 points per 2x2 block of one colour.
    c = np.zeros(k * n * n + n + 1, dtype=bool)
    c[: k * n * n] = cand.ravel()
    m = k * n * n
    horiz = c[:m] == c[1 : m + 1]
    block = np.zeros(m, dtype=bool)
    np.logical_and(horiz[: m - n], horiz[n:], out=block[: m - n])
    block[: m - n] &= c[: m - n] == c[n:m]
    block &= block_ok
    n2 = 3 * np.count_nonzero(block.reshape(k, -1), axis=1)
    # N3: 1011101 with 4 light modules before or after (outside counts as light:
    # the padding), 40 points each. The pattern has no "00", so it never spans
    # the 8 padding modules between two lines.
    f = flat
    match = f[:total] & ~f[1 : total + 1] & f[2 : total + 2] & f[3 : total + 3]
    match &= f[4 : total + 4] & ~f[5 : total + 5] & f[6 : total + 6]
    dark4 = f[: total + 12] | f[1 : total + 13] | f[2 : total + 14] | f[3 : total + 15]
    counted = np.zeros(total, dtype=bool)
    counted[4:] = match[4:] & ~(dark4[: total - 4] & dark4[11 : total + 7])
    n3 = 40 * np.count_nonzero(counted.reshape(k, -1), axis=1)
    # segno resumes its search 7 modules after a counted match, so a match that
    # overlaps it (shift 4 or 6) is not examined; rare, recomputed exactly here.
    skipped = counted[: total - 6] & (match[4 : total - 2] | match[6:total])
    if skipped.any():
        for line_no in np.unique(np.flatnonzero(skipped) // width).tolist():
            mask_no = line_no // (2 * n)
            line = lines[mask_no, line_no % (2 * n), 4 : n + 4].astype(np.uint8).tolist()
            seg = slice(line_no * width, (line_no + 1) * width)
            n3[mask_no] += _n3_sequential(line) - 40 * int(counted[seg].sum())
    # N4: deviation of the dark proportion from 50 %, same float formula as segno.
    darks = np.count_nonzero(cand.reshape(k, -1), axis=1).tolist()
    n4 = [10 * int(abs(float(d) / (n * n) * 100 - 50) / 5) for d in darks]
    return [int(a) + int(b) + int(c3) + d for a, b, c3, d in zip(n1, n2, n3, n4, strict=True)]


@dataclass(frozen=True)
class _QrLayout:
    """Everything that depends only on (mode, payload length, error level)."""

    version: int
    error: int  # segno error constant, after boosting
    size: int
    mode: int
    count_bits: int  # length of the character count indicator
    data_codewords: int
    pad_bits: int  # bits of terminator + padding between the data and the pad codewords
    groups: tuple[tuple[int, int, int, np.ndarray], ...]  # (first data cw, blocks, data per block, G)
    ec_total: int
    bit_positions: np.ndarray  # flat matrix index of each codeword bit (data then EC, pre-interleave)
    base: np.ndarray  # (size*size,) function patterns; data/format/version modules 0
    masks: np.ndarray  # (8, size, size) mask bits inside the encoding region only
    overlays: np.ndarray  # (8, size, size) format info (per mask) + version info + dark module


def _capacity_needed(mode: int, length: int, version: int) -> int:
    cc = _sc.CHAR_COUNT_INDICATOR_LENGTH[mode][_se.version_range(version)]
    body = 8 * length if mode == _sc.MODE_BYTE else 11 * (length // 2) + 6 * (length % 2)
    return 4 + cc + body


def _build_layout(mode: int, length: int, error: int, boost_error: bool) -> _QrLayout:
    # Version: the smallest one that fits (as segno.encoder.find_version, micro=False).
    for version in range(1, 41):
        needed = _capacity_needed(mode, length, version)
        if _sc.SYMBOL_CAPACITY[version][error] >= needed:  # type: ignore[index]
            break
    else:
        raise ValueError("payload too long for a QR code")
    if boost_error:  # use a stronger level when it fits in the same version (segno's default)
        for level in _ERROR_ORDER[_ERROR_ORDER.index(error) + 1 :]:
            if _sc.SYMBOL_CAPACITY[version][level] < needed:  # type: ignore[index]
                break
            error = level
    capacity = _sc.SYMBOL_CAPACITY[version][error]  # type: ignore[index]
    size = version * 4 + 17
    # Terminator (<= 4 zero bits), then zero bits to the next codeword boundary;
    # segno adds a whole zero byte when already on a boundary, which decoders
    # ignore (it comes after the terminator) and we mirror for identical output.
    terminator = min(capacity - needed, 4)
    pad_bits = terminator + (8 - (needed + terminator) % 8)

    # Reed-Solomon block structure, in data codeword order.
    groups = []
    first = 0
    data_blocks: list[range] = []
    ec_blocks: list[range] = []
    ec_first = 0
    for ec in _sc.ECC[version][error]:  # type: ignore[index]
        num_ec = ec.num_total - ec.num_data
        groups.append((first, ec.num_blocks, ec.num_data, _rs_unit_responses(ec.num_data, num_ec)))
        for _ in range(ec.num_blocks):
            data_blocks.append(range(first, first + ec.num_data))
            ec_blocks.append(range(ec_first, ec_first + num_ec))
            first += ec.num_data
            ec_first += num_ec
    data_codewords, ec_total = first, ec_first
    assert data_codewords * 8 == capacity

    # Interleaving: final sequence index -> index into concat(data, ec).
    order: list[int] = []
    for blocks, offset in ((data_blocks, 0), (ec_blocks, data_codewords)):
        for i in range(max(len(b) for b in blocks)):
            order.extend(offset + b[i] for b in blocks if i < len(b))

    # Function patterns via segno's own helpers (0x2 marks the encoding region).
    template = _se.make_matrix(size, size)
    _se.add_finder_patterns(template, size, size)
    _se.add_alignment_patterns(template, size, size)
    tmpl = np.array([list(row) for row in template], dtype=np.uint8)
    region = tmpl == 2

    # Module placement order (ISO/IEC 18004 7.7.3; as segno.encoder.add_codewords).
    placement: list[int] = []
    for right in range(size - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(size):
            for z in (0, 1):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = size - 1 - vertical if upwards else vertical
                if region[i, j]:
                    placement.append(i * size + j)
    total_bits = 8 * (data_codewords + ec_total)
    assert len(placement) >= total_bits  # the rest are remainder bits (always 0)
    # Bit b of codeword c (MSB first) of concat(data, ec) goes to the module of
    # final-sequence bit 8 * order.index(c) + b.
    final_pos = np.array(placement[:total_bits], dtype=np.intp).reshape(-1, 8)
    bit_positions = np.empty_like(final_pos)
    bit_positions[np.array(order)] = final_pos

    masks = _mask_functions(size) * region
    overlays = np.zeros((8, size, size), dtype=np.uint8)
    for m in range(8):
        ov = tuple(bytearray(size) for _ in range(size))
        _se.add_format_info(ov, version, error, m)  # also sets the dark module
        _se.add_version_info(ov, version)
        overlays[m] = np.array([list(row) for row in ov], dtype=np.uint8)

    return _QrLayout(
        version=version,
        error=error,
        size=size,
        mode=mode,
        count_bits=_sc.CHAR_COUNT_INDICATOR_LENGTH[mode][_se.version_range(version)],
        data_codewords=data_codewords,
        pad_bits=pad_bits,
        groups=tuple(groups),
        ec_total=ec_total,
        bit_positions=bit_positions.ravel(),
        base=np.where(region, 0, tmpl).astype(np.uint8).ravel(),
        masks=masks,
        overlays=overlays,
    )


class QrRenderer:
    """Fast QR code renderer for batches of same-shaped URLs.

    ``QrRenderer(sample_url, error="M", scale=4)`` prepares the layout (version,
    error level after boosting, block structure, module placement) for URLs shaped
    like ``sample_url``; other shapes get their own cached layout on first use, so
    any URL is rendered correctly. Each code gets the best of the 8 data masks by
    the ISO/IEC 18004 penalty rules (``mask=0..7`` forces one instead).

    Output is module-for-module identical to ``segno.make(url, error=error,
    micro=False, boost_error=boost_error, mask=mask)``. ASCII payloads use the fast
    path (byte or alphanumeric mode); anything else falls back to segno itself.
    """

    def __init__(
        self,
        sample_url: str | None = None,
        *,
        error: ErrorLevel = "M",
        scale: int = 4,
        boost_error: bool = True,
        mask: int | None = None,
        compresslevel: int = 6,
    ) -> None:
        err = error.upper() if isinstance(error, str) else error
        if err not in _ERROR_LEVELS:
            raise ValueError(f"error must be one of L, M, Q, H, not {error!r}")
        if scale < 1:
            raise ValueError("scale must be >= 1")
        if mask is not None and not 0 <= mask <= 7:
            raise ValueError("mask must be None or 0..7")
        self.error_level: ErrorLevel = err  # type: ignore[assignment]
        self.scale = scale
        self.boost_error = boost_error
        self.mask = mask
        self.compresslevel = compresslevel
        self._error = _ERROR_LEVELS[err]
        self._layouts: dict[tuple[int, int], _QrLayout] = {}
        if sample_url is not None:
            self.matrix(sample_url)  # builds and self-checks the layout

    # -- public API ---------------------------------------------------------

    def matrix(self, url: str) -> np.ndarray:
        """Module matrix (size x size bool, True = dark) WITHOUT the quiet zone."""
        data, mode = self._classify(url)
        if mode is None:
            return self._segno_matrix(url)
        key = (mode, len(data))
        layout = self._layouts.get(key)
        if layout is None:
            layout = _build_layout(mode, len(data), self._error, self.boost_error)
            result = self._encode(layout, data)
            # One-off guard per layout: we reuse segno's tables, so check that the
            # fast path reproduces segno's symbol before trusting it for a batch.
            if not np.array_equal(result, self._segno_matrix(url)):
                raise RuntimeError("QrRenderer fast path disagrees with segno")  # pragma: no cover
            self._layouts[key] = layout
            return result
        return self._encode(layout, data)

    def png(self, url: str) -> bytes:
        """1-bit PNG, ``scale`` px per module, 4-module quiet zone."""
        return png_from_matrix(
            self.matrix(url), scale=self.scale, border=QR_QUIET_ZONE, compresslevel=self.compresslevel
        )

    def svg(self, url: str) -> bytes:
        """SVG with one path; size ``scale`` px per module, 4-module quiet zone."""
        return svg_from_matrix(self.matrix(url), scale=self.scale, border=QR_QUIET_ZONE)

    def version(self, url: str) -> int:
        """QR version (1..40) used for ``url``."""
        return (self.matrix(url).shape[0] - 17) // 4

    def error_for(self, url: str) -> ErrorLevel:
        """Error level actually used for ``url`` (may be boosted above ``error``)."""
        data, mode = self._classify(url)
        if mode is None:
            qr = segno.make(url, error=self.error_level, micro=False, boost_error=self.boost_error)
            return qr.error  # type: ignore[return-value]
        self.matrix(url)
        return _ERROR_NAMES[self._layouts[(mode, len(data))].error]  # type: ignore[return-value]

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _classify(url: str) -> tuple[bytes, int | None]:
        """Payload bytes and QR mode as segno would choose it; None = not fast-pathed."""
        if not url.isascii() or not url or url.isdigit():
            return b"", None
        data = url.encode("ascii")
        if _ALNUM_RE.fullmatch(url):
            return data, _sc.MODE_ALPHANUMERIC
        return data, _sc.MODE_BYTE

    def _segno_matrix(self, url: str) -> np.ndarray:
        qr = segno.make(url, error=self.error_level, micro=False, boost_error=self.boost_error, mask=self.mask)
        return np.array([list(row) for row in qr.matrix], dtype=bool)

    def _encode(self, lay: _QrLayout, data: bytes) -> np.ndarray:
        # 1. Data bit stream as one big int: mode, count, payload, terminator/padding.
        n = len(data)
        if lay.mode == _sc.MODE_BYTE:
            body, body_bits = int.from_bytes(data, "big"), 8 * n
        else:
            body = 0
            vals = [_ALNUM_VALUE[ch] for ch in data.decode("ascii")]
            for i in range(0, n - 1, 2):
                body = (body << 11) | (vals[i] * 45 + vals[i + 1])
            body_bits = 11 * (n // 2)
            if n % 2:
                body = (body << 6) | vals[-1]
                body_bits += 6
        stream = (((lay.mode << lay.count_bits) | n) << body_bits | body) << lay.pad_bits
        used = (4 + lay.count_bits + body_bits + lay.pad_bits) // 8
        cw = np.empty(lay.data_codewords + lay.ec_total, dtype=np.uint8)
        head = stream.to_bytes(used, "big")[: lay.data_codewords]
        cw[: len(head)] = np.frombuffer(head, dtype=np.uint8)
        cw[len(head) : lay.data_codewords] = np.resize(np.array([0xEC, 0x11], np.uint8), lay.data_codewords - len(head))
        # 2. Reed-Solomon EC codewords, all blocks of a group at once.
        ec_at = lay.data_codewords
        for first, blocks, per_block, gmat in lay.groups:
            d = cw[first : first + blocks * per_block].reshape(blocks, per_block)
            ec = np.bitwise_xor.reduce(_GF_MUL[d[:, :, None], gmat[None, :, :]], axis=1)
            cw[ec_at : ec_at + ec.size] = ec.ravel()
            ec_at += ec.size
        # 3. Place the bits, try all masks (or the fixed one), add format/version info.
        flat = lay.base.copy()
        flat[lay.bit_positions] = np.unpackbits(cw)
        unmasked = flat.reshape(lay.size, lay.size)
        if self.mask is None:
            cand = unmasked[None, :, :] ^ lay.masks
            scores = _mask_penalties(cand)
            best = scores.index(min(scores))
            chosen = cand[best]
        else:
            best = self.mask
            chosen = unmasked ^ lay.masks[best]
        return (chosen | lay.overlays[best]).astype(bool)


# --------------------------------------------------------------------------
# GS1 DataMatrix
# --------------------------------------------------------------------------

_GS = 0x1D  # ASCII group separator; also our stand-in byte for FNC1
_DMTX_FNC1 = 232  # the FNC1 codeword (ISO/IEC 16022)
_DM_SCHEMES = {
    "ascii": _dmtx.DmtxScheme.DmtxSchemeAscii,
    "auto": _dmtx.DmtxScheme.DmtxSchemeAutoBest,
}
_DM_SHAPES = {
    "square": _dmtx.DmtxSymbolSize.DmtxSymbolSquareAuto,
    "rectangle": _dmtx.DmtxSymbolSize.DmtxSymbolRectAuto,
}
_P = _dmtx.DmtxProperty


def _dm_encode(payload: bytes, scheme: int, shape: int) -> tuple[np.ndarray, int]:
    """Run libdmtx's encoder; return (dark-module matrix, first codeword)."""
    enc = _dmtx.dmtxEncodeCreate()
    if not enc:
        raise MemoryError("dmtxEncodeCreate failed")
    try:
        set_prop = _dmtx.dmtxEncodeSetProp
        set_prop(enc, _P.DmtxPropScheme, scheme)
        set_prop(enc, _P.DmtxPropSizeRequest, shape)
        # Every GS byte in the input becomes the FNC1 codeword, so the leading GS
        # we prepend is "FNC1 in first position" (GS1) and the inner ones are the
        # FNC1 field separators, which readers transmit as GS.
        set_prop(enc, _P.DmtxPropFnc1, _GS)
        # 1 px per module, no margin, 8-bit grey: the image *is* the module matrix.
        set_prop(enc, _P.DmtxPropModuleSize, 1)
        set_prop(enc, _P.DmtxPropMarginSize, 0)
        set_prop(enc, _P.DmtxPropPixelPacking, _dmtx.DmtxPackOrder.DmtxPack8bppK)
        buf = (ctypes.c_ubyte * len(payload)).from_buffer_copy(payload)
        if not _dmtx.dmtxEncodeDataMatrix(enc, len(payload), buf):
            raise ValueError("data does not fit in a DataMatrix symbol of the requested shape")
        image = enc[0].image[0]
        width, height, row_bytes = image.width, image.height, image.rowSizeBytes
        pixels = np.frombuffer(ctypes.string_at(image.pxl, row_bytes * height), dtype=np.uint8)
        dark = pixels.reshape(height, row_bytes)[:, :width] < 128
        return dark, enc[0].message[0].code[0]
    finally:
        _dmtx.dmtxEncodeDestroy(ctypes.byref(enc))


def datamatrix_matrix(
    element_string: str,
    *,
    scheme: Literal["ascii", "auto"] = "ascii",
    shape: Literal["square", "rectangle"] = "square",
) -> np.ndarray:
    """GS1 DataMatrix module matrix (bool, True = dark, no quiet zone).

    ``element_string`` is the GS1 element string without a leading FNC1, with
    ASCII 29 (GS) after each variable-length field that is not last, e.g.
    ``"0109506000134352172712311010L2026A\\x1d21" + serial``. The symbol starts
    with FNC1 and each GS is encoded as FNC1, so readers report ``]d2``.

    ``scheme="ascii"`` (default) uses ASCII encodation only; ``"auto"`` lets libdmtx
    mix in C40/Text etc. for a smaller symbol (it falls back to ASCII if the first
    codeword would not be FNC1).
    """
    if not element_string:
        raise ValueError("empty element string")
    if not element_string.isascii():
        raise ValueError("GS1 element strings are ASCII only")
    if element_string[0] == "\x1d":
        raise ValueError("element string must not start with GS (FNC1 is added)")
    if scheme not in _DM_SCHEMES or shape not in _DM_SHAPES:
        raise ValueError("scheme must be 'ascii' or 'auto', shape 'square' or 'rectangle'")
    payload = b"\x1d" + element_string.encode("ascii")
    dark, first = _dm_encode(payload, _DM_SCHEMES[scheme], _DM_SHAPES[shape])
    if first != _DMTX_FNC1 and scheme != "ascii":
        dark, first = _dm_encode(payload, _DM_SCHEMES["ascii"], _DM_SHAPES[shape])
    if first != _DMTX_FNC1:
        # e.g. a libdmtx older than 0.7.5 silently ignores DmtxPropFnc1
        raise RuntimeError("libdmtx did not encode FNC1 in first position (needs libdmtx >= 0.7.5)")
    return dark


def datamatrix_png(
    element_string: str,
    *,
    module_size: int = 4,
    quiet_zone: int = DM_QUIET_ZONE,
    scheme: Literal["ascii", "auto"] = "ascii",
    shape: Literal["square", "rectangle"] = "square",
    compresslevel: int = 6,
) -> bytes:
    """GS1 DataMatrix as a 1-bit PNG: ``module_size`` px per module, quiet zone in modules."""
    if quiet_zone < 1:
        raise ValueError("DataMatrix needs a quiet zone of at least 1 module")
    matrix = datamatrix_matrix(element_string, scheme=scheme, shape=shape)
    return png_from_matrix(matrix, scale=module_size, border=quiet_zone, compresslevel=compresslevel)
