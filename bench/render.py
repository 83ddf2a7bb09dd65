"""Benchmark: print files through the job machinery against the bare library loops, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/render.py [--codes 100000]
        [--baseline-codes 10000] [--verify 500] [--million] [--qr-million]

Ours: codes.printing.write_part (what each worker task runs): codes read from PostgreSQL in chunks, texts,
symbols, ZIP/PDF/CSV writing, SHA-256, save to storage; one process, job default options (QR error M,
4 px modules; DataMatrix 4 px; PDF A4 3x8, vector QR). Baselines, on the same URLs / element strings:
segno ``make(url).save(buf, kind=...)`` with segno's defaults; ``pylibdmtx.encode`` + PIL PNG; reportlab
Canvas drawing one square per dark module + the serial. Baselines are timed on --baseline-codes codes
(rates are per code). A sample of --verify rendered codes per format is decoded with zxing-cpp.

--million: generate a 1,000,000-code batch, export it as CSV with `manage.py export_batch` in a child
process (parts of 100,000), check the manifest against the files and report the child's peak RSS.
--qr-million: also render that batch as QR PNG in two processes at once (half the parts each).
"""

import argparse
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from pathlib import Path

from _setup import ROOT, bench_brand, setup_django

TARGETS = {"qr-png": 2.0, "qr-svg": 2.0, "datamatrix": 0.8, "pdf": 0.8}


def make_batch(quantity: int):
    from codes import services
    from codes.gs1 import gtin_check_digit

    tag = uuid.uuid4().hex[:8]
    body = f"0{int(tag, 16) % 10**12:012d}"
    brand = bench_brand(tag, body + gtin_check_digit(body))
    product = services.create_product(
        brand=brand, name="Bench", gtin=body + gtin_check_digit(body), serial_alphabet="alnum", serial_length=12
    )
    from datetime import date

    lot = services.get_or_create_lot(product=product, number="BENCH1", expires_on=date(2030, 12, 31))
    started = time.perf_counter()
    batch = services.order_batch(product=product, lot=lot, quantity=quantity, enqueue=False)
    batch = services.generate_batch(batch.pk)
    print(f"batch {batch.pk}: {quantity:,} codes generated in {time.perf_counter() - started:.1f} s")
    from codes.models import CodeBatch

    return CodeBatch.objects.select_related("product__key", "lot").get(pk=batch.pk)


def ours(batch, fmt: str, count: int, tmp: Path) -> tuple[float, bytes]:
    from django.core.files.storage import FileSystemStorage

    from codes import printing

    options = printing.clean_options(fmt, {})
    spec = printing.PartSpec(batch, fmt, options, 1, count)
    started = time.perf_counter()
    name, size, _sha = printing.write_part(spec, FileSystemStorage(location=tmp), f"ours.{spec.extension}")
    seconds = time.perf_counter() - started
    return count / seconds, (tmp / name).read_bytes() if size < 2**31 else b""


def texts(batch, count: int):
    from codes.printing.rendering import _CodeText, codes_in

    text = _CodeText(batch)
    serials = [s for rows in codes_in(batch, 1, count) for _, s in rows]
    return serials, [text.url(s) for s in serials], [text.element_string(s) for s in serials]


def baseline_qr(urls, kind: str) -> float:
    import segno

    started = time.perf_counter()
    for url in urls:
        segno.make(url).save(io.BytesIO(), kind=kind)
    return len(urls) / (time.perf_counter() - started)


def baseline_dm(elements) -> float:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pylibdmtx.pylibdmtx as pylibdmtx
    started = time.perf_counter()
    for element in elements:
        enc = pylibdmtx.encode(element.encode())
        Image.frombytes("RGB", (enc.width, enc.height), enc.pixels).save(io.BytesIO(), format="PNG")
    return len(elements) / (time.perf_counter() - started)


def baseline_pdf(urls, serials) -> float:
    import numpy as np
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from codes.labels import SheetLayout
    from codes.symbols import QR_QUIET_ZONE, QrRenderer

    layout = SheetLayout()
    cells = layout.cells()
    renderer = QrRenderer(urls[0])
    started = time.perf_counter()
    c = canvas.Canvas(io.BytesIO(), pagesize=A4)
    for i, (url, serial) in enumerate(zip(urls, serials, strict=True)):
        if i and i % layout.per_page == 0:
            c.showPage()
        cell = cells[i % layout.per_page]
        matrix = renderer.matrix(url)
        side = cell.height - 8
        module = side / (matrix.shape[0] + 2 * QR_QUIET_ZONE)
        x0, top = cell.x + 4 + QR_QUIET_ZONE * module, cell.y + cell.height - 4 - QR_QUIET_ZONE * module
        for r, col in zip(*np.nonzero(matrix), strict=True):
            c.rect(x0 + col * module, top - (r + 1) * module, module, module, stroke=0, fill=1)
        c.setFont("Courier-Bold", 10)
        c.drawString(cell.x + side + 12, cell.y + cell.height - 16, serial)
    c.showPage()
    c.save()
    return len(urls) / (time.perf_counter() - started)


def verify_zip(data: bytes, expected: list[str], sample: int, fmt: str) -> int:
    import numpy as np
    import zxingcpp
    from PIL import Image

    rng = random.Random(1)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        for name in rng.sample(names, min(sample, len(names))):
            raw = archive.read(name)
            if name.endswith(".svg"):
                sys.path.insert(0, str(ROOT))
                from tests.codes.test_symbols import _svg_to_matrix

                image = Image.fromarray((~_svg_to_matrix(raw)).astype(np.uint8).repeat(3, 0).repeat(3, 1) * 255)
            else:
                image = Image.open(io.BytesIO(raw))
            kind = zxingcpp.BarcodeFormat.DataMatrix if fmt == "datamatrix" else zxingcpp.BarcodeFormat.QRCode
            (code,) = zxingcpp.read_barcodes(image, formats=kind, text_mode=zxingcpp.TextMode.Plain)
            assert code.text == expected[int(name.split(".")[0]) - 1], name
            if fmt == "datamatrix":
                assert code.symbology_identifier == "]d2"
    return min(sample, len(names))


def verify_pdf(data: bytes, expected: list[str], tmp: Path) -> int:
    import zxingcpp
    from PIL import Image

    (tmp / "s.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", tmp / "s.pdf", tmp / "p"],
        check=True,
    )
    found = zxingcpp.read_barcodes(Image.open(tmp / "p.png"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert sorted(c.text for c in found) == sorted(expected[:24])
    return len(found)


def report(name: str, base: float | None, mine: float, target: float | None, note: str = "") -> None:
    if base is None:
        print(f"{name:<12} ours {mine:10,.0f} codes/s {note}")
        return
    ratio = mine / base
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    print(
        f"{name:<12} baseline {base:9,.0f}/s  ours {mine:9,.0f}/s  ratio {ratio:5.2f}x "
        f"(target {target}x: {verdict}) {note}"
    )


def bench_formats(args) -> None:
    batch = make_batch(args.codes)
    serials, urls, elements = texts(batch, args.codes)
    n_base = min(args.baseline_codes, args.codes)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rate, _ = ours(batch, "csv", args.codes, tmp)
        report("csv", None, rate, None, f"(target 100,000/s: {'ok' if rate >= 100_000 else 'BELOW TARGET'})")
        for fmt in ("qr-png", "qr-svg", "datamatrix", "pdf"):
            rate, data = ours(batch, fmt, args.codes, tmp)
            if fmt.startswith("qr"):
                base = baseline_qr(urls[:n_base], fmt[3:])
                checked = verify_zip(data, urls, args.verify, fmt)
            elif fmt == "datamatrix":
                base = baseline_dm(elements[:n_base])
                checked = verify_zip(data, elements, args.verify, fmt)
            else:
                base = baseline_pdf(urls[:n_base], serials[:n_base])
                checked = verify_pdf(data, urls, tmp)
            report(fmt, base, rate, TARGETS[fmt], f"[{len(data) / 2**20:.1f} MiB, {checked} decoded OK]")


def export(batch_id: int, fmt: str, out: Path, first: int | None = None, last: int | None = None):
    cmd = [sys.executable, "manage.py", "export_batch", str(batch_id), "--format", fmt, "--out", str(out)]
    if first:
        cmd += ["--from", str(first), "--to", str(last)]
    return subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL)


def wait(process) -> float:
    """Wait for one child; its own peak RSS in MB.

    Read from /proc (VmHWM belongs to the exec'd program's memory), not from wait4's ru_maxrss, which on
    Linux also counts the parent's pages the child had between fork and exec.
    """
    peak_kb = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass  # between exec and exit the file may be gone
        time.sleep(0.05)
    assert process.returncode == 0, f"export_batch failed with status {process.returncode}"
    return peak_kb / 1024


def check_manifest(out: Path, batch_id: int) -> dict:
    (found,) = out.glob("*-manifest.json")  # {brand}-{gtin}-{lot}-batch{n}-{first}-{last}-{format}-manifest.json
    manifest = json.loads(found.read_text())
    for entry in manifest["files"]:
        digest = hashlib.sha256()
        with open(out / entry["name"], "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        assert digest.hexdigest() == entry["sha256"], entry["name"]
    return manifest


def bench_million(args) -> None:
    batch = make_batch(1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        peak_mb = wait(export(batch.pk, "csv", out))
        seconds = time.perf_counter() - started
        manifest = check_manifest(out, batch.pk)
        print(
            f"1M CSV export: {seconds:.1f} s ({1_000_000 / seconds:,.0f} codes/s incl. process start), "
            f"{manifest['parts']} parts, manifest SHA-256 verified, child peak RSS {peak_mb:.0f} MB"
        )
    if args.qr_million:
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp) / "a", Path(tmp) / "b"
            started = time.perf_counter()
            processes = [export(batch.pk, "qr-png", a, 1, 500_000), export(batch.pk, "qr-png", b, 500_001, 1_000_000)]
            peak_mb = max(wait(p) for p in processes)
            seconds = time.perf_counter() - started
            parts = check_manifest(a, batch.pk)["parts"] + check_manifest(b, batch.pk)["parts"]
            print(
                f"1M QR PNG over 2 processes: {seconds:.1f} s ({1_000_000 / seconds:,.0f} codes/s), {parts} parts, "
                f"manifests verified, peak RSS of a child {peak_mb:.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--baseline-codes", type=int, default=10_000)
    parser.add_argument("--verify", type=int, default=500, help="codes decoded per format")
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--qr-million", action="store_true")
    parser.add_argument("--skip-formats", action="store_true")
    args = parser.parse_args()
    setup_django()
    if not args.skip_formats:
        bench_formats(args)
    if args.million:
        bench_million(args)


if __name__ == "__main__":
    main()
