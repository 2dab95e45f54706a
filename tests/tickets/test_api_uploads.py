"""Claim photos (API.md, POST /api/v1/uploads/): real JPEG, PNG and WebP only, checked by decoding, size- and
pixel-limited, stored without metadata, and attached to one claim of their owner at most."""

import datetime as dt
import io
import struct
import threading
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from PIL import Image, PngImagePlugin
from rest_framework.test import APIClient

from orders.models import Buyer
from policies.models import Policy
from tests.factories import BuyerFactory, client_for, make_order, reason
from tickets.models import Ticket, Upload

pytestmark = pytest.mark.django_db

API = "/api/v1"
URL = f"{API}/uploads/"
T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


def image_bytes(fmt: str, size=(32, 24), color=(200, 30, 30), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt, **save)
    return buf.getvalue()


def as_file(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def upload(client, data: bytes, name: str = "photo.jpg"):
    return client.post(URL, {"file": as_file(data, name)}, format="multipart")


def assert_file_refused(response, code="invalid"):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert "file" in body["fields"]
    assert not Upload.objects.exists()


@pytest.mark.parametrize(("fmt", "name", "content_type"), [
    ("PNG", "a.png", "image/png"), ("JPEG", "b.jpg", "image/jpeg"), ("WEBP", "c.webp", "image/webp")])
def test_real_images_are_accepted(buyer, alice, fmt, name, content_type):
    response = upload(alice, image_bytes(fmt), name)

    assert response.status_code == 201, response.content
    data = response.json()
    stored = Upload.objects.get()
    assert data["id"] == stored.pk
    assert (data["width"], data["height"]) == (32, 24)
    assert data["url"] == f"http://testserver/api/v1/uploads/{stored.pk}/file/"
    assert stored.owner == buyer.user
    assert stored.content_type == content_type
    with Image.open(stored.file.path) as img:
        assert img.format == fmt
        assert img.size == (32, 24)


def test_the_declared_name_does_not_matter_the_content_does(alice):
    response = upload(alice, image_bytes("PNG"), "holiday.jpg")

    assert response.status_code == 201
    assert Upload.objects.get().content_type == "image/png"
    assert alice.get(response.json()["url"])["Content-Type"] == "image/png"


@pytest.mark.parametrize(("data", "name"), [
    (b"just some text, honest\n" * 20, "photo.jpg"),
    (b"", "empty.png"),
    (b"%PDF-1.4\n%...", "scan.jpg"),
    (b"GIF89a" + b"\x00" * 50, "x.gif"),
])
def test_files_that_are_not_images_are_refused(alice, data, name):
    assert_file_refused(upload(alice, data, name))


def test_a_gif_is_a_real_image_but_not_accepted(alice):
    assert_file_refused(upload(alice, image_bytes("GIF"), "anim.gif"))


def test_a_truncated_png_is_refused(alice):
    whole = image_bytes("PNG", size=(200, 200), color=(1, 2, 3))
    noisy = Image.effect_noise((200, 200), 64).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    for data in (whole[: len(whole) // 2], buf.getvalue()[: len(buf.getvalue()) - 300]):
        assert_file_refused(upload(alice, data, "cut.png"))


def test_a_truncated_jpeg_is_refused(alice):
    noisy = Image.effect_noise((300, 300), 64).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "JPEG")

    assert_file_refused(upload(alice, buf.getvalue()[: len(buf.getvalue()) // 2], "cut.jpg"))


def test_an_image_over_the_pixel_limit_is_refused(alice, settings):
    settings.UPLOAD_MAX_PIXELS = settings.UPLOAD_MAX_PIXELS_LOSSLESS = 32 * 24 - 1

    assert_file_refused(upload(alice, image_bytes("PNG"), "big.png"))
    assert_file_refused(upload(alice, image_bytes("JPEG"), "big.jpg"))
    settings.UPLOAD_MAX_PIXELS = settings.UPLOAD_MAX_PIXELS_LOSSLESS = 32 * 24
    assert upload(alice, image_bytes("PNG"), "fits.png").status_code == 201


def test_formats_without_a_draft_mode_are_held_to_fewer_pixels(alice, settings):
    settings.UPLOAD_MAX_PIXELS, settings.UPLOAD_MAX_PIXELS_LOSSLESS = 32 * 24, 32 * 24 - 1

    assert_file_refused(upload(alice, image_bytes("PNG"), "big.png"))
    assert upload(alice, image_bytes("JPEG"), "fits.jpg").status_code == 201


def test_a_large_photo_is_stored_at_most_4096_pixels_on_its_long_side(alice):
    response = upload(alice, image_bytes("JPEG", size=(6000, 4000), quality=60), "big.jpg")

    assert response.status_code == 201, response.content
    stored = Upload.objects.get(pk=response.json()["id"])
    assert (stored.width, stored.height) == (4096, 2731)
    assert Image.open(stored.file).size == (4096, 2731)


def test_an_image_over_the_byte_limit_is_refused(alice, settings):
    data = image_bytes("PNG")
    settings.UPLOAD_MAX_BYTES = len(data) - 1

    assert_file_refused(upload(alice, data, "heavy.png"))
    settings.UPLOAD_MAX_BYTES = len(data)
    assert upload(alice, data, "fits.png").status_code == 201


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def test_a_png_claiming_huge_dimensions_is_refused_without_decoding(alice):
    """A decompression bomb's header: 100 000 × 100 000 pixels in a few bytes."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + _chunk(b"IEND", b""))

    assert_file_refused(upload(alice, data, "bomb.png"))


def test_exif_and_gps_are_removed_from_a_jpeg(alice):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "SecretModel X"  # Model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 2.5), 3: "E", 4: (121.0, 28.0, 11.0)}  # GPS
    original = image_bytes("JPEG", size=(40, 30), exif=exif.tobytes())
    assert b"SecretCam" in original

    response = upload(alice, original, "with-exif.jpg")

    assert response.status_code == 201, response.content
    stored = Upload.objects.get()
    raw = stored.file.read()
    assert b"SecretCam" not in raw and b"SecretModel" not in raw and b"Exif" not in raw
    with Image.open(stored.file.path) as img:
        assert dict(img.getexif()) == {}
        assert "exif" not in img.info
        assert img.size == (40, 30)


def test_exif_orientation_is_applied_before_it_is_dropped(alice):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    original = image_bytes("JPEG", size=(40, 20), exif=exif.tobytes())

    response = upload(alice, original, "portrait.jpg")

    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (20, 40)
    with Image.open(Upload.objects.get().file.path) as img:
        assert img.size == (20, 40)
        assert dict(img.getexif()) == {}


def test_png_text_chunks_are_removed(alice):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 8 Garden Lane")
    original = image_bytes("PNG", pnginfo=info)
    assert b"Garden Lane" in original

    response = upload(alice, original, "note.png")

    assert response.status_code == 201
    raw = Upload.objects.get().file.read()
    assert b"Garden Lane" not in raw and b"tEXt" not in raw


def test_no_file_is_400_naming_the_field(alice):
    assert_file_refused(alice.post(URL, {"other": "x"}, format="multipart"), code="required")
    assert_file_refused(alice.post(URL, {"file": "not a file"}, format="multipart"), code="required")


def test_json_is_not_an_upload(alice):
    response = alice.post(URL, {"file": "aGVsbG8="}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Upload.objects.exists()


# ------------------------------------------------------------------------------ use in a claim


def claim(order, photo_ids, line=1) -> dict:
    return {"order_no": order.order_no, "type": "exchange", "reason_id": reason("quality_issue").pk,
            "lines": [{"order_line_id": f"{order.order_no}-{line}", "quantity": 1}], "photo_ids": photo_ids}


def test_an_uploaded_photo_is_attached_to_a_claim(buyer, alice):
    order = make_order(buyer=buyer)
    photo_id = upload(alice, image_bytes("JPEG"), "broken.jpg").json()["id"]

    response = alice.post(f"{API}/tickets/", claim(order, [photo_id]), format="json")

    assert response.status_code == 201, response.content
    assert [p["id"] for p in response.json()["photos"]] == [photo_id]
    assert Upload.objects.get().ticket == Ticket.objects.get()


def test_another_users_photo_cannot_be_attached(buyer, alice):
    bob = BuyerFactory(account="bob")
    bobs_photo = upload(client_for(bob.user), image_bytes("PNG"), "bob.png").json()["id"]
    order = make_order(buyer=buyer)

    response = alice.post(f"{API}/tickets/", claim(order, [bobs_photo]), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "photo_ids" in response.json()["fields"]
    assert not Ticket.objects.exists()
    assert Upload.objects.get().ticket is None


def test_a_photo_cannot_be_attached_to_two_claims(buyer, alice):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "8.00", 1, None)))
    photo_id = upload(alice, image_bytes("PNG"), "p.png").json()["id"]
    first = alice.post(f"{API}/tickets/", claim(order, [photo_id], line=1), format="json")
    assert first.status_code == 201, first.content

    second = alice.post(f"{API}/tickets/", claim(order, [photo_id], line=2), format="json")

    assert second.status_code == 400
    assert "photo_ids" in second.json()["fields"]
    assert Ticket.objects.count() == 1
    assert Upload.objects.get().ticket.ticket_no == first.json()["ticket_no"]


def test_the_same_photo_twice_in_one_claim_is_refused(buyer, alice):
    order = make_order(buyer=buyer)
    photo_id = upload(alice, image_bytes("PNG"), "p.png").json()["id"]

    response = alice.post(f"{API}/tickets/", claim(order, [photo_id, photo_id]), format="json")

    assert response.status_code == 400
    assert "photo_ids" in response.json()["fields"]
    assert not Ticket.objects.exists()


def test_at_most_six_photos_per_claim(buyer, alice):
    order = make_order(buyer=buyer)
    ids = [upload(alice, image_bytes("PNG"), f"{i}.png").json()["id"] for i in range(7)]

    response = alice.post(f"{API}/tickets/", claim(order, ids), format="json")

    assert response.status_code == 400
    assert "photo_ids" in response.json()["fields"]
    assert not Ticket.objects.exists()
    assert alice.post(f"{API}/tickets/", claim(order, ids[:6]), format="json").status_code == 201


def test_a_photo_is_served_to_its_owner_and_staff_only(alice, ops_user):
    url = upload(alice, image_bytes("PNG")).json()["url"]
    stored = Upload.objects.get()

    mine = alice.get(url)
    assert mine.status_code == 200 and mine["Content-Type"] == "image/png"
    assert b"".join(mine.streaming_content) == stored.file.open("rb").read()
    assert client_for(ops_user).get(url).status_code == 200

    stranger = client_for(BuyerFactory(account="mallory").user).get(url)
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    assert APIClient().get(url).status_code == 401


# ------------------------------------------------------------------------------ issue #19, finding 10


def noise_png(size=(200, 200)) -> bytes:
    """Pixels that do not compress: stored at about 3 bytes a pixel, whatever the encoder's settings."""
    buf = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise(size, 64) for _ in "RGB"]).save(buf, "PNG")
    return buf.getvalue()


def set_policy(key: str, value) -> None:
    row = Policy.objects.get(key=key)
    row.value = Decimal(value)
    row.save()


def stored_files(settings) -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def test_finding10_a_buyer_over_the_daily_photo_quota_gets_429_and_nothing_is_stored(buyer, alice, settings):
    set_policy("upload_quota_mb_per_day", "0.20")  # 209,715 bytes: one noisy 200 x 200 photo, not two
    first = upload(alice, noise_png(), "one.png")
    assert first.status_code == 201, first.content
    one = Upload.objects.get().size
    assert one <= 209_715 < 2 * one

    refused = upload(alice, noise_png(), "two.png")

    assert refused.status_code == 429, refused.content
    body = refused.json()
    assert body["code"] == "upload_quota_exceeded"
    assert "file" in body["fields"]
    assert f"{one / 1024 / 1024:.1f} MB of the 0.2 MB allowed" in body["detail"]
    assert Upload.objects.count() == 1
    assert len(stored_files(settings)) == 1


def test_finding10_a_full_quota_refuses_before_decoding_and_refills_after_24_hours(buyer, alice, settings):
    with time_machine.travel(T0, tick=False):
        assert upload(alice, noise_png(), "one.png").status_code == 201
    set_policy("upload_quota_mb_per_day", "0.10")  # lowered below what the buyer already stored

    with time_machine.travel(T0 + dt.timedelta(hours=23, minutes=59), tick=False):
        refused = upload(alice, b"not even an image", "junk.png")  # 429, not 400: nothing was decoded
        assert refused.status_code == 429, refused.content
        assert refused.json()["detail"].endswith("of the 0.1 MB allowed. Try again later.")
    with time_machine.travel(T0 + dt.timedelta(hours=24, seconds=1), tick=False):
        assert upload(alice, image_bytes("PNG"), "next-day.png").status_code == 201
    assert Upload.objects.count() == 2
    assert len(stored_files(settings)) == 2


def test_finding10_the_quota_is_per_buyer_and_staff_photos_are_not_counted(buyer, alice, warehouse_user):
    set_policy("upload_quota_mb_per_day", "0.20")
    assert upload(alice, noise_png(), "alice.png").status_code == 201
    bob = client_for(BuyerFactory(account="bob").user)
    clerk = client_for(warehouse_user)

    assert upload(bob, noise_png(), "bob.png").status_code == 201
    assert [upload(clerk, noise_png(), f"{i}.png").status_code for i in range(3)] == [201, 201, 201]
    assert upload(alice, noise_png(), "again.png").status_code == 429


@pytest.mark.django_db(transaction=True)
def test_finding10_two_uploads_at_once_do_not_both_fit_into_the_last_megabytes(buyer):
    set_policy("upload_quota_mb_per_day", "0.20")  # room for one of the two
    data = noise_png()
    barrier = threading.Barrier(2)
    outcomes = []

    def send(name):
        try:
            client = client_for(Buyer.objects.get(pk=buyer.pk).user)
            barrier.wait(timeout=20)
            outcomes.append(upload(client, data, name).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(f"{i}.png",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == [201, 429]
    assert Upload.objects.count() == 1


@pytest.mark.parametrize(("fmt", "options"), [("PNG", {}), ("WEBP", {"lossless": True})])
def test_finding10_a_lossless_image_over_6_mi_pixels_is_refused_naming_the_field_and_one_at_it_accepted(
        alice, fmt, options):
    over = upload(alice, image_bytes(fmt, size=(4096, 1537), **options), "screen.png")

    assert_file_refused(over)
    assert over.json()["detail"] == (
        "A PNG or WebP image may have at most 6,291,456 pixels (about 6.3 megapixels); this one has 6,295,552 "
        "(4096 × 1537). Send it smaller, or as a JPEG (up to about 40 megapixels).")
    at_the_limit = upload(alice, image_bytes(fmt, size=(4096, 1536), **options), "screen.png")
    assert at_the_limit.status_code == 201, at_the_limit.content
    assert (at_the_limit.json()["width"], at_the_limit.json()["height"]) == (4096, 1536)


def test_finding10_a_1_bit_png_is_stored_1_bit_at_about_the_size_it_came(alice):
    scan = Image.effect_noise((1240, 1754), 90).point(lambda v: 0 if v < 40 else 255).convert("1")  # A4, 150 dpi
    buf = io.BytesIO()
    scan.save(buf, "PNG", optimize=True)

    response = upload(alice, buf.getvalue(), "receipt.png")

    assert response.status_code == 201, response.content
    stored = Upload.objects.get()
    assert stored.size <= len(buf.getvalue()) * 1.25  # encoded for speed, not squeezed: as RGB it was 4.3 times
    with Image.open(stored.file.path) as img:
        assert img.mode == "1"
        assert img.tobytes() == scan.tobytes()


def test_finding10_a_palette_png_keeps_its_palette_and_its_see_through_entry(alice):
    drawing = Image.new("P", (300, 200), 0)
    drawing.putpalette([255, 255, 255, 200, 30, 30, 30, 30, 200] + [0] * (256 * 3 - 9))
    for x in range(0, 300, 3):
        drawing.putpixel((x, x % 200), 1 + x % 2)
    buf = io.BytesIO()
    drawing.save(buf, "PNG", transparency=0)

    response = upload(alice, buf.getvalue(), "sketch.png")

    assert response.status_code == 201, response.content
    with Image.open(Upload.objects.get().file.path) as img:
        assert img.mode == "P"
        assert img.info["transparency"] == 0
        assert img.convert("RGBA").tobytes() == Image.open(buf).convert("RGBA").tobytes()
