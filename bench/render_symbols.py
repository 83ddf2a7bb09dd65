"""Micro-benchmark: code rendering vs the naive baselines, in one run.

    .venv/bin/python bench/render_symbols.py [-n 20000] [--pdf-labels 5000]

QR   baseline: ``segno.make(url).save(buf, kind=png|svg)`` (segno defaults: error
     L boosted, scale 1); ours: ``QrRenderer`` with the same settings, so both
     produce the very same symbols (checked on a sample before timing).
DM   baseline: bare ``pylibdmtx.encode`` + PIL PNG (no FNC1); ours:
     ``datamatrix_png`` (GS1, FNC1) at the same pixel size.
PDF  baseline: reportlab Canvas, one ``rect`` per dark module + the serial;
     ours: ``write_label_sheets``. Both use the same QR matrices.

Baseline and ours alternate in rounds over the same inputs, so a noisy
neighbour slows both alike. Rates are codes (labels) per second, one process.
"""

from __future__ import annotations

import argparse
import io
import math
import platform
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import segno  # noqa: E402
from PIL import Image  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from codes.labels import Label, SheetLayout, write_label_sheets  # noqa: E402
from codes.symbols import QR_QUIET_ZONE, QrRenderer, datamatrix_png  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pylibdmtx.pylibdmtx as pylibdmtx  # noqa: E402

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
URL = "https://verify.example.com/01/09506000134352/10/L2026A/21/{}?17=271231"
GS1 = "0109506000134352172712311010L2026A\x1d21{}"


def serials(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(12)) for _ in range(n)]


def interleaved(
    items: Sequence[object],
    baseline: Callable[[Sequence[object]], None],
    ours: Callable[[Sequence[object]], None],
    rounds: int,
    baseline_limit: int | None,
) -> tuple[float, float]:
    """Run both on the same chunks, alternating; return (baseline/s, ours/s)."""
    chunk = math.ceil(len(items) / rounds)
    base_per_chunk = chunk if baseline_limit is None else max(1, math.ceil(baseline_limit / rounds))
    t_base = t_ours = 0.0
    n_base = n_ours = 0
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        sample = part[:base_per_chunk]
        t0 = time.perf_counter()
        baseline(sample)
        t1 = time.perf_counter()
        ours(part)
        t2 = time.perf_counter()
        t_base += t1 - t0
        t_ours += t2 - t1
        n_base += len(sample)
        n_ours += len(part)
    return n_base / t_base, n_ours / t_ours


def report(name: str, base: float, ours: float, target: float) -> None:
    ratio = ours / base
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    print(
        f"{name:<28} baseline {base:10.0f}/s   ours {ours:10.0f}/s   ratio {ratio:6.2f}x  (target {target}x: {verdict})"
    )


def bench_qr(urls: list[str], args: argparse.Namespace) -> None:
    # segno.make() defaults: error L, boosted when the version has room.
    renderer = QrRenderer(urls[0], error="L", scale=args.scale)
    for url in urls[:50]:
        ref = np.array([list(r) for r in segno.make(url, micro=False).matrix], dtype=bool)
        assert np.array_equal(renderer.matrix(url), ref), "not the same symbol as segno"
    qr0 = segno.make(urls[0])
    print(f"QR: version {qr0.version}, error {qr0.error}, {len(urls)} codes, scale {args.scale}, identical to segno")
    for kind in ("png", "svg"):
        write = renderer.png if kind == "png" else renderer.svg

        def baseline(batch: Sequence[object], kind: str = kind) -> None:
            for url in batch:
                buf = io.BytesIO()
                segno.make(url).save(buf, kind=kind, scale=args.scale)

        def ours(batch: Sequence[object], write: Callable[[str], bytes] = write) -> None:
            for url in batch:
                write(url)  # type: ignore[arg-type]

        base, mine = interleaved(urls, baseline, ours, args.rounds, args.baseline_limit)
        report(f"QR {kind}", base, mine, 2.0)


def bench_dm(data: list[str], args: argparse.Namespace) -> None:
    # pylibdmtx.encode draws 5 px modules with a 10 px (2 module) margin.
    def baseline(batch: Sequence[object]) -> None:
        for element in batch:
            enc = pylibdmtx.encode(element.encode())  # type: ignore[attr-defined]
            buf = io.BytesIO()
            Image.frombytes("RGB", (enc.width, enc.height), enc.pixels).save(buf, format="PNG")

    def ours(batch: Sequence[object]) -> None:
        for element in batch:
            datamatrix_png(element, module_size=5, quiet_zone=2)  # type: ignore[arg-type]

    base, mine = interleaved(data, baseline, ours, args.rounds, args.baseline_limit)
    report("DataMatrix png", base, mine, 0.8)


def bench_pdf(labels: list[Label], args: argparse.Namespace) -> None:
    layout = SheetLayout()
    cells = layout.cells()
    renderer = QrRenderer(labels[0].payload)

    def baseline(batch: Sequence[object]) -> None:
        c = canvas.Canvas(io.BytesIO(), pagesize=A4)
        for i, label in enumerate(batch):
            if i and i % layout.per_page == 0:
                c.showPage()
            cell = cells[i % layout.per_page]
            matrix = renderer.matrix(label.payload)  # type: ignore[attr-defined]
            side = cell.height - 8
            module = side / (matrix.shape[0] + 2 * QR_QUIET_ZONE)
            x0 = cell.x + 4 + QR_QUIET_ZONE * module
            top = cell.y + cell.height - 4 - QR_QUIET_ZONE * module
            for r, col in zip(*np.nonzero(matrix), strict=True):
                c.rect(x0 + col * module, top - (r + 1) * module, module, module, stroke=0, fill=1)
            c.setFont("Courier-Bold", 10)
            c.drawString(cell.x + side + 12, cell.y + cell.height - 16, label.serial)  # type: ignore[attr-defined]
        c.showPage()
        c.save()

    def ours(batch: Sequence[object]) -> None:
        write_label_sheets(io.BytesIO(), batch, layout=layout, qr_renderer=renderer)  # type: ignore[arg-type]

    base, mine = interleaved(labels, baseline, ours, args.rounds, args.baseline_limit)
    report("PDF labels (QR, A4 3x8)", base, mine, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="codes per QR/DataMatrix case (default 20000)")
    parser.add_argument("--pdf-labels", type=int, default=None, help="labels for the PDF case (default: n // 4)")
    parser.add_argument("--scale", type=int, default=1, help="QR px per module for both sides (segno default 1)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating baseline/ours rounds")
    parser.add_argument(
        "--baseline-limit", type=int, default=None, help="time the baseline on this many items only (rates per item)"
    )
    parser.add_argument("--only", default="qr,dm,pdf", help="comma-separated subset of qr,dm,pdf")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"Python {platform.python_version()}, numpy {np.__version__}, segno {segno.__version__}, n={args.n}")
    codes = serials(args.n, args.seed)
    if "qr" in only:
        bench_qr([URL.format(s) for s in codes], args)
    if "dm" in only:
        bench_dm([GS1.format(s) for s in codes], args)
    if "pdf" in only:
        count = args.pdf_labels if args.pdf_labels is not None else max(1, args.n // 4)
        bench_pdf([Label(URL.format(s), s) for s in codes[:count]], args)


if __name__ == "__main__":
    main()
