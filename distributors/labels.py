"""Carton labels: a GS1 DataMatrix carrying (00) SSCC, with its human-readable text, on a 100 × 150 mm
shipping label (the common 4 × 6 in size), drawn by the same PDF writer as the unit labels."""

import io
from collections.abc import Iterable

from codes.labels import Label, SheetLayout, write_label_sheets

from .models import Carton

SHIPPING_LABEL = SheetLayout(page_size=(100, 150), columns=1, rows=1, margins_mm=12.0, gap_mm=0)


def carton_label(carton: Carton) -> Label:
    batch = carton.batch
    caption = f"{batch.product} · lot {batch.lot.number} · units {carton.first_position}–{carton.last_position}"
    return Label(payload="00" + carton.sscc, serial=f"(00) {carton.sscc}", caption=caption[:80])


def cartons_pdf(cartons: Iterable[Carton]) -> bytes:
    out = io.BytesIO()
    write_label_sheets(out, (carton_label(c) for c in cartons), symbology="datamatrix", layout=SHIPPING_LABEL)
    return out.getvalue()


def carton_label_pdf(carton: Carton) -> bytes:
    return cartons_pdf([carton])
