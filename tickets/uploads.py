"""Claim photos: checked by decoding (never by name or declared type), re-encoded without metadata,
size- and pixel-limited, stored through the default storage (swappable).

Decoding costs time and memory in proportion to the pixels, so both are bounded: a JPEG is decoded in
draft mode, at the smallest of 1/2, 1/4 or 1/8 of its size that keeps both sides at least DRAFT_SIDE
(a 40 Mpx phone photo reads as 10 Mpx); formats without a draft mode (PNG, WebP) are refused above
UPLOAD_MAX_PIXELS_LOSSLESS (6 Mi pixels: decoding and re-encoding them is what costs, issue #19); every
photo is stored at most LONG_SIDE pixels on its long side, more than a reviewer's screen shows, in its own
mode where the format holds it (a 1-bit scan stays 1-bit). A buyer's photos of the last 24 hours may take
at most the policy ``upload_quota_mb_per_day`` as stored. Figures: bench/uploads.py."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aftersales import clock
from aftersales.errors import FieldInvalid, FieldRequired, UploadQuotaExceeded
from orders.models import Buyer
from policies import services as policies
from tickets.models import Upload

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
LONG_SIDE = 4096
DRAFT_SIDE = 2048
MB = 1024 * 1024
QUOTA_WINDOW = timedelta(hours=24)


def store_upload(*, actor, file) -> Upload:
    """Checks, re-encodes and stores one photo of ``actor``. Raises FieldRequired or FieldInvalid (400, field
    ``file``) for anything that is not an acceptable image, and UploadQuotaExceeded (429) when a buyer's
    photos of the last 24 hours would take more than the policy ``upload_quota_mb_per_day``; nothing is stored
    then. Its own transaction (and the buyer's row lock) begins after the pixels are worked on, not before."""
    if file is None:
        raise FieldRequired(_("Send the image as multipart field 'file'."), field="file")
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise FieldInvalid(_("At most %(megabytes)s MB.") % {"megabytes": settings.UPLOAD_MAX_BYTES // MB},
                           field="file")
    counted = Buyer.objects.filter(user=actor).exists()  # staff photos (the warehouse's) are not a buyer's
    if counted:
        _check_quota(actor, adding=0)  # already full: refused before any decoding
    raw = file.read()
    image = _decode(raw)
    extension, content_type = FORMATS[image.format]
    clean = _reencode(image)
    token = uuid.uuid4()
    with transaction.atomic():
        if counted:
            # One buyer's uploads in turn: two at once must not both fit into the last megabytes.
            Buyer.objects.select_for_update().filter(user=actor).values_list("pk").get()
            _check_quota(actor, adding=len(clean["bytes"]))
        upload = Upload(token=token, owner=actor, extension=extension, content_type=content_type,
                        width=clean["width"], height=clean["height"], size=len(clean["bytes"]))
        upload.file.save(f"{token}.{extension}", ContentFile(clean["bytes"]), save=False)
        upload.save()
    return upload


def _check_quota(actor, *, adding: int) -> None:
    """The rule (policy ``upload_quota_mb_per_day``): what a buyer's photos uploaded in the last 24 hours take
    as stored, this one included, stays within the quota. Attached or not, every stored byte counts; a day
    later it no longer does, so the quota refills by itself and a buyer is never locked out for good."""
    limit = policies.current()["upload_quota_mb_per_day"] * MB
    used = Upload.objects.filter(owner=actor, created_at__gt=clock.now() - QUOTA_WINDOW).aggregate(
        total=Sum("size", default=0))["total"]
    if used + adding <= limit and (adding or used < limit):
        return
    figures = {"used": _megabytes(used), "limit": _megabytes(limit), "size": _megabytes(adding)}
    if adding:
        detail = _("Your photos of the last 24 hours take %(used)s MB of the %(limit)s MB allowed, and this one "
                   "would take %(size)s MB more. Try again later.") % figures
    else:
        detail = _("Your photos of the last 24 hours take %(used)s MB of the %(limit)s MB allowed. "
                   "Try again later.") % figures
    raise UploadQuotaExceeded(detail, field="file")


def _megabytes(size) -> str:
    return f"{Decimal(size) / MB:.1f}"


def _decode(raw: bytes) -> Image.Image:
    try:
        probe = Image.open(io.BytesIO(raw))
        if probe.format not in FORMATS:
            raise FieldInvalid(_("Images only: JPEG, PNG or WebP."), field="file")
        if probe.width * probe.height > _pixel_limit(probe.format):
            raise FieldInvalid(_too_many_pixels(probe), field="file")
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


def _pixel_limit(fmt: str) -> int:
    return settings.UPLOAD_MAX_PIXELS if fmt == "JPEG" else settings.UPLOAD_MAX_PIXELS_LOSSLESS


def _too_many_pixels(probe: Image.Image) -> str:
    figures = {"limit": f"{_pixel_limit(probe.format):,}", "megapixels": f"{_pixel_limit(probe.format) / 1e6:.1f}",
               "pixels": f"{probe.width * probe.height:,}", "width": probe.width, "height": probe.height}
    if probe.format == "JPEG":
        return _("A JPEG photo may have at most %(limit)s pixels (about %(megapixels)s megapixels); this one has "
                 "%(pixels)s (%(width)s × %(height)s). Send it smaller.") % figures
    figures["jpeg_megapixels"] = f"{settings.UPLOAD_MAX_PIXELS / 1e6:.0f}"
    return _("A PNG or WebP image may have at most %(limit)s pixels (about %(megapixels)s megapixels); this one "
             "has %(pixels)s (%(width)s × %(height)s). Send it smaller, or as a JPEG (up to about "
             "%(jpeg_megapixels)s megapixels).") % figures


def _reencode(image: Image.Image) -> dict:
    fmt = image.format
    ImageOps.exif_transpose(image, in_place=True)  # keep what the photo shows (no copy when upright)
    image.thumbnail((LONG_SIDE, LONG_SIDE))  # only ever smaller: a photo under the size stays as it is
    image = _storable_mode(image, fmt)
    # A fresh image from the pixels alone (and the palette): no EXIF, GPS, XMP, ICC or text chunks survive.
    transparency = image.info.get("transparency") if image.mode in ("1", "L", "P", "RGB") and fmt == "PNG" else None
    fresh = image.copy()
    fresh.info = {}
    out = io.BytesIO()
    # Fast settings: the stored copy is for reading on a screen, and re-encoding is most of the cost. (zlib's
    # run-length strategy was a little faster on photos but stored a screenshot of text 3.6 times larger.)
    options = {"JPEG": {"quality": 90}, "PNG": {"compress_level": 1}, "WEBP": {"quality": 90, "method": 2}}[fmt]
    if transparency is not None:
        options["transparency"] = transparency  # a palette's or a colour's see-through entry: a pixel, not metadata
    fresh.save(out, format=fmt, **options)
    return {"bytes": out.getvalue(), "width": fresh.width, "height": fresh.height}


def _storable_mode(image: Image.Image, fmt: str) -> Image.Image:
    """The mode to store in: the upload's own where the format can hold it, so a 1-bit or palette PNG stays as
    small as it came (as RGB, a 1-bit scan was stored 3.4 times its size); otherwise the nearest the format
    holds. JPEG: RGB or grey. WebP: RGB or RGBA. PNG: any of its own modes."""
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if fmt == "PNG" and image.mode in ("1", "L", "LA", "P", "RGB", "RGBA"):
        return image
    if image.mode in ("RGB", "RGBA"):
        return image
    see_through = "transparency" in image.info or image.mode in ("LA", "PA", "La")
    return image.convert("RGBA" if see_through else "RGB")
