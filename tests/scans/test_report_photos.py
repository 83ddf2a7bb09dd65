"""Consumers' photos are personal data: stored re-encoded without metadata, under a random name, within limits."""

import io

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from scans.models import CounterfeitReport

GPS_IFD, MAKE, MODEL, ORIENTATION = 0x8825, 0x010F, 0x0110, 0x0112


def phone_photo(size=(40, 30)) -> bytes:
    """A JPEG as a phone writes it: maker, model, GPS position, and an orientation flag (turned 90°)."""
    image = Image.new("RGB", size, "red")
    exif = image.getexif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "Apple", "iPhone 15 Pro", 6
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (3.0, 8.0, 0.0), "E", (101.0, 41.0, 0.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"taken at home")
    return buffer.getvalue()


def report(data: bytes, name="IMG_0001.jpg"):
    photo = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return Client().post("/verify/report/", {"where_bought": "Pasar malam", "photo": photo}, REMOTE_ADDR="8.8.8.8")


def test_the_test_photo_really_carries_gps_and_the_phone_model():
    exif = Image.open(io.BytesIO(phone_photo())).getexif()
    assert exif[MODEL] == "iPhone 15 Pro" and exif.get_ifd(GPS_IFD)


def test_a_stored_report_photo_has_no_exif_and_is_upright(db):
    assert report(phone_photo()).status_code == 200
    stored = CounterfeitReport.objects.get().photo
    with default_storage.open(stored.name, "rb") as handle:
        data = handle.read()
    image = Image.open(io.BytesIO(data))
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"iPhone" not in data and b"Apple" not in data
    assert image.size == (30, 40)  # the orientation flag was applied to the pixels, then dropped


def test_the_consumers_file_name_is_never_kept(db):
    report(phone_photo(), name="Siti binti Ahmad - receipt.jpg")
    name = CounterfeitReport.objects.get().photo.name
    assert "Siti" not in name and "receipt" not in name
    assert name.startswith("counterfeit-reports/") and name.endswith(".jpg")


def test_large_photos_are_scaled_down(db, settings):
    settings.UPLOAD_IMAGE_MAX_SIDE = 20
    report(phone_photo(size=(80, 60)))
    with default_storage.open(CounterfeitReport.objects.get().photo.name, "rb") as handle:
        assert max(Image.open(handle).size) == 20


def test_too_many_pixels_or_bytes_or_not_an_image_is_refused(db, settings):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 1_000
    assert report(phone_photo(size=(40, 30))).status_code == 400
    settings.UPLOAD_IMAGE_MAX_PIXELS, settings.UPLOAD_IMAGE_MAX_BYTES = 40_000_000, 100
    assert report(phone_photo()).status_code == 400
    settings.UPLOAD_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    assert report(b"<?php echo 1; ?>", name="shell.jpg").status_code == 400
    assert not CounterfeitReport.objects.exists()


def test_a_logo_keeps_its_transparency_and_loses_its_metadata(owner_client, brand):
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 255, 0)).save(buffer, format="PNG", pnginfo=None)
    logo = SimpleUploadedFile("our logo.png", buffer.getvalue(), content_type="image/png")
    data = {"name": brand.name, "colour": "#123456", "clone_scan_threshold": 5, "logo": logo}
    assert owner_client.post("/settings/", data).status_code == 302
    brand.refresh_from_db()
    assert brand.logo.name.startswith("brand-logos/") and "our logo" not in brand.logo.name
    with default_storage.open(brand.logo.name, "rb") as handle:
        image = Image.open(handle)
        assert image.mode == "RGBA" and image.getpixel((1, 1))[3] == 0


MEASURE = """
import io, resource, sys
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from core.files import clean_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    clean_image(SimpleUploadedFile("x", data))
    outcome = "stored"
except ValidationError as error:
    outcome = "refused: " + " ".join(error.messages)
print(outcome, "|", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def _peak_cost(path) -> tuple[str, int]:
    """clean_image on a file in a fresh process: its outcome and how many MB its peak memory grew by."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], cwd=root, capture_output=True, text=True, timeout=120, check=True
    )
    outcome, megabytes = done.stdout.strip().rsplit("|", 1)
    return outcome.strip(), int(megabytes)


def test_a_small_file_claiming_forty_megapixels_costs_a_worker_little(tmp_path):
    """Issue 18: a 154 KB 39.7-megapixel PNG cost a worker about 520 MB. A PNG must be decoded whole, so a
    canvas that large is refused on its header; a phone's JPEG of the same size is decoded already reduced."""
    png, jpeg = tmp_path / "canvas.png", tmp_path / "photo.jpg"
    canvas = Image.new("RGB", (7280, 5456), "white")
    canvas.save(png, format="PNG")
    canvas.save(jpeg, format="JPEG", quality=70)
    del canvas
    assert png.stat().st_size < 1024 * 1024
    outcome, megabytes = _peak_cost(png)
    assert outcome == "refused: The image has too many pixels." and megabytes < 40, (outcome, megabytes)
    outcome, megabytes = _peak_cost(jpeg)
    assert outcome == "stored" and megabytes < 120, (outcome, megabytes)


def test_a_phone_photo_of_sixteen_megapixels_is_still_accepted(db):
    buffer = io.BytesIO()
    Image.new("RGB", (4624, 3468), "red").save(buffer, format="PNG")
    assert report(buffer.getvalue(), name="screenshot.png").status_code == 200
