"""Stored files, for every app: names that never collide, images without metadata, downloads that scale.

Lives in `core`, the ground floor every app stands on. Nothing here keeps an uploader's file name: on a shared
bucket a name chosen by a consumer (``IMG_0001.jpg``, ``../brand-logos/l.png``) must never decide where a
file goes, nor which file it replaces.
"""

from __future__ import annotations

import fcntl
import io
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from PIL import Image, ImageOps, UnidentifiedImageError
from storages.utils import clean_name

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png"}


@deconstructible
class RandomName:
    """`upload_to` for a FileField: ``folder/yyyy/mm/<128 random bits>.<ext>``; the given name lends only its
    extension (from a short allow-list), so two uploads of ``IMG_0001.jpg`` are two files."""

    def __init__(self, folder: str, *, dated: bool = False):
        self.folder, self.dated = folder.strip("/"), dated

    def __call__(self, instance, filename: str) -> str:
        from django.utils import timezone

        extension = PurePosixPath(filename).suffix.lower()
        extension = extension if extension in IMAGE_EXTENSIONS else ""
        folder = f"{self.folder}/{timezone.now():%Y/%m}" if self.dated else self.folder
        return f"{folder}/{uuid.uuid4().hex}{extension}"

    def __eq__(self, other):
        return isinstance(other, RandomName) and (self.folder, self.dated) == (other.folder, other.dated)


def clean_image(upload, *, keep_alpha: bool = False) -> ContentFile:
    """Re-encode an uploaded image: EXIF (GPS, phone, time), ICC and comments are dropped, the pixels are
    turned upright and scaled to at most UPLOAD_IMAGE_MAX_SIDE. ValidationError for what is not an image or
    is too large. Photos become JPEG; with `keep_alpha` (logos) a PNG keeps its transparency.

    Memory is what an upload can cost a worker, not its file size (a 154 KB PNG can claim 40 megapixels):
    a JPEG is decoded already reduced towards the target side, what must still be decoded whole is capped in
    bytes (UPLOAD_IMAGE_MAX_DECODE_BYTES), and one full decode runs at a time on a host."""
    if upload.size > settings.UPLOAD_IMAGE_MAX_BYTES:
        raise ValidationError(f"The image is larger than {settings.UPLOAD_IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    side = settings.UPLOAD_IMAGE_MAX_SIDE
    try:
        with Image.open(upload) as image:
            # Decided on the header, before any pixel is decoded: a small file can claim a huge canvas.
            if image.width * image.height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                raise ValidationError("The image has too many pixels.")
            image.draft(None, (side, side))  # a JPEG decodes at 1/2 … 1/8 scale; other formats ignore it
            if decoded_bytes(image) > settings.UPLOAD_IMAGE_MAX_DECODE_BYTES:
                raise ValidationError("The image has too many pixels.")
            image.getexif()  # read the orientation now: the pixels are scaled before they are turned
            with _decode_slot():
                image.thumbnail((side, side))  # in place: the full-size pixels are dropped as it shrinks
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise ValidationError("Upload a photo (JPEG or PNG).") from None
    alpha = keep_alpha and upright.mode in ("RGBA", "LA", "P")
    pixels = upright.convert("RGBA" if alpha else "RGB")
    # Only the pixels are carried over: a new image has no `info`, so Pillow cannot write EXIF, XMP, ICC or a
    # comment of the original back, whatever its version does by default.
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    buffer = io.BytesIO()
    if alpha:
        bare.save(buffer, format="PNG", optimize=True)
    else:
        bare.save(buffer, format="JPEG", quality=85, optimize=True)
    return ContentFile(buffer.getvalue(), name="image.png" if alpha else "image.jpg")


def decoded_bytes(image: Image.Image) -> int:
    """What decoding `image` at its (drafted) size holds in memory: Pillow keeps one byte per pixel for
    single-band 8-bit modes and four for every other (RGB included)."""
    per_pixel = 1 if image.mode in ("1", "L", "P") else 4
    return image.width * image.height * per_pixel


@contextmanager
def _decode_slot(wait_seconds: float = 10.0):
    """One full decode at a time on this host (every web worker process), so several large uploads at once
    queue for seconds instead of multiplying a worker's memory; a long queue is refused, not waited out."""
    path = os.path.join(tempfile.gettempdir(), "serialize-image-decode.lock")
    with open(path, "a") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ValidationError("Too many images are being processed: try again in a minute.") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_s3(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def presigned_url(storage: Storage, name: str, *, filename: str, content_type: str, inline: bool = False) -> str | None:
    """A short-lived link that lets the client fetch `name` straight from S3 (Range requests included), as an
    attachment called `filename`; None where the storage cannot do that (the filesystem: stream it instead).

    Signed against the bucket's endpoint even when AWS_S3_CUSTOM_DOMAIN is set, since a custom domain
    serves public files and these are private."""
    if not is_s3(storage):
        return None
    client = storage.connection.meta.client  # type: ignore[attr-defined]
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": storage.bucket_name,  # type: ignore[attr-defined]
            "Key": storage._normalize_name(clean_name(name)),  # type: ignore[attr-defined]
            "ResponseContentDisposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
            "ResponseContentType": content_type,
            "ResponseCacheControl": "private, no-store",
        },
        ExpiresIn=settings.DOWNLOAD_URL_SECONDS,
    )


def delete_files(storage: Storage, names) -> int:
    """Delete stored files by name (missing ones are fine: deletion is retried after a crash)."""
    count = 0
    for name in names:
        if name:
            storage.delete(name)
            count += 1
    return count
