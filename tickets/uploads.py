"""Claim photos: checked by decoding (never by name or declared type), re-encoded without metadata,
size- and pixel-limited, stored through the default storage (swappable).

Decoding costs time and memory in proportion to the pixels, so both are bounded: a JPEG is decoded in
draft mode, at the smallest of 1/2, 1/4 or 1/8 of its size that keeps both sides at least DRAFT_SIDE
(a 40 Mpx phone photo reads as 10 Mpx); formats without a draft mode (PNG, WebP) are refused above
UPLOAD_MAX_PIXELS_LOSSLESS; and every photo is stored at most LONG_SIDE pixels on its long side, more
than a reviewer's screen shows. Figures: bench/uploads.py."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aftersales.errors import FieldInvalid, FieldRequired
from tickets.models import Upload

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
LONG_SIDE = 4096
DRAFT_SIDE = 2048


@transaction.atomic
def store_upload(*, actor, file) -> Upload:
    if file is None:
        raise FieldRequired(_("Send the image as multipart field 'file'."), field="file")
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise FieldInvalid(_("At most %(megabytes)s MB.") % {"megabytes": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
                           field="file")
    raw = file.read()
    image = _decode(raw)
    extension, content_type = FORMATS[image.format]
    clean = _reencode(image)
    token = uuid.uuid4()
    upload = Upload(token=token, owner=actor, extension=extension, content_type=content_type,
                    width=clean["width"], height=clean["height"], size=len(clean["bytes"]))
    upload.file.save(f"{token}.{extension}", ContentFile(clean["bytes"]), save=False)
    upload.save()
    return upload


def _decode(raw: bytes) -> Image.Image:
    try:
        probe = Image.open(io.BytesIO(raw))
        if probe.format not in FORMATS:
            raise FieldInvalid(_("Images only: JPEG, PNG or WebP."), field="file")
        limit = settings.UPLOAD_MAX_PIXELS if probe.format == "JPEG" else settings.UPLOAD_MAX_PIXELS_LOSSLESS
        if probe.width * probe.height > limit:
            raise FieldInvalid(_("At most %(pixels)s pixels.") % {"pixels": f"{limit:,}"}, field="file")
        probe.verify()  # structure and checksums
        image = Image.open(io.BytesIO(raw))
        if image.format == "JPEG":
            image.draft("RGB" if image.mode not in ("L", "RGB") else image.mode, (DRAFT_SIDE, DRAFT_SIDE))
        image.load()  # every pixel: a truncated file fails here
        return image
    except FieldInvalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        raise FieldInvalid(_("Not a readable JPEG, PNG or WebP image."), field="file") from None


def _reencode(image: Image.Image) -> dict:
    fmt = image.format
    image = ImageOps.exif_transpose(image)  # keep what the photo shows, then drop the metadata
    image.thumbnail((LONG_SIDE, LONG_SIDE))  # only ever smaller: a photo under the size stays as it is
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("P", "PA") else "RGB")
    # A fresh image from the pixels alone: no EXIF, GPS, XMP, ICC or text chunks survive.
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    # Fast settings: the stored copy is for reading on a screen, and re-encoding is most of the cost.
    options = {"JPEG": {"quality": 90}, "PNG": {"compress_level": 1}, "WEBP": {"quality": 90, "method": 2}}[fmt]
    fresh.save(out, format=fmt, **options)
    return {"bytes": out.getvalue(), "width": fresh.width, "height": fresh.height}
