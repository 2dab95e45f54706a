"""Claim photos: checked by decoding (never by name or declared type), re-encoded without metadata,
size- and pixel-limited, stored through the default storage (swappable)."""

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
        if probe.width * probe.height > settings.UPLOAD_MAX_PIXELS:
            raise FieldInvalid(_("At most %(pixels)s pixels.") % {"pixels": f"{settings.UPLOAD_MAX_PIXELS:,}"}, field="file")
        probe.verify()  # structure and checksums
        image = Image.open(io.BytesIO(raw))
        image.load()  # every pixel: a truncated file fails here
        return image
    except FieldInvalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        raise FieldInvalid(_("Not a readable JPEG, PNG or WebP image."), field="file") from None


def _reencode(image: Image.Image) -> dict:
    fmt = image.format
    image = ImageOps.exif_transpose(image)  # keep what the photo shows, then drop the metadata
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("P", "PA") else "RGB")
    # A fresh image from the pixels alone: no EXIF, GPS, XMP, ICC or text chunks survive.
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "PNG": {"optimize": False}, "WEBP": {"quality": 90}}[fmt]
    fresh.save(out, format=fmt, **options)
    return {"bytes": out.getvalue(), "width": fresh.width, "height": fresh.height}
