"""Stored files, for every app: names that never collide, images without metadata, downloads that scale.

Lives in `brands`, the app every other one may import. Nothing here keeps an uploader's file name: on a shared
bucket a name chosen by a consumer (``IMG_0001.jpg``, ``../brand-logos/l.png``) must never decide where a
file goes, nor which file it replaces.
"""

from __future__ import annotations

import io
import uuid
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
    is too large. Photos become JPEG; with `keep_alpha` (logos) a PNG keeps its transparency."""
    if upload.size > settings.UPLOAD_IMAGE_MAX_BYTES:
        raise ValidationError(f"The image is larger than {settings.UPLOAD_IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            # Decided on the header, before any pixel is decoded: a small file can claim a huge canvas.
            if image.width * image.height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                raise ValidationError("The image has too many pixels.")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise ValidationError("Upload a photo (JPEG or PNG).") from None
    upright.thumbnail((settings.UPLOAD_IMAGE_MAX_SIDE, settings.UPLOAD_IMAGE_MAX_SIDE))
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
