"""Uploads at the limit: what decoding and re-encoding a photo costs, alone and three at a time.

    .venv/bin/python bench/uploads.py [--runs 3]

Makes a 40 Mpx JPEG (the JPEG limit) and a 16.7 Mpx PNG (the PNG/WebP limit), and for comparison in the
same run a 39.7 Mpx PNG decoded the way uploads were decoded before (every pixel, stored at full size: the
case the hardening issue measured). Each case runs in three processes at once, as three gunicorn workers
would; prints each upload's wall time and each process's peak memory (RSS). Goal: three at once each under
1 s and under 300 MB. Nothing is stored: only tickets.uploads' decode and re-encode run.
"""

import argparse
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()


def make(fmt: str, size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (190, 120, 60))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 97):  # some detail, so the codecs have work to do
        draw.line([(x, 0), (size[0] - x, size[1])], fill=(x % 255, 40, 200), width=3)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def _now(raw: bytes) -> float:
    """Today's path: tickets.uploads' decode and re-encode."""
    from tickets import uploads

    started = time.perf_counter()
    uploads._reencode(uploads._decode(raw))
    return time.perf_counter() - started


def _before(raw: bytes) -> float:
    """The path before bounding: every pixel decoded, re-encoded at full size."""
    from PIL import Image, ImageOps

    started = time.perf_counter()
    image = Image.open(io.BytesIO(raw))
    image.load()
    fmt = image.format
    image = ImageOps.exif_transpose(image)
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    fresh.save(io.BytesIO(), format=fmt)
    return time.perf_counter() - started


def _worker(args):
    path, raw = args
    _setup()
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the baseline case is over Pillow's own warning threshold
    seconds = (_now if path == "now" else _before)(raw)
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, raw: bytes, runs: int) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(runs):
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            for seconds, peak in pool.map(_worker, [(path, raw)] * 3):
                times.append(seconds)
                peaks.append(peak)
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = [
        ("before: PNG 39.7 Mpx, every pixel", "before", make("PNG", (7280, 5456))),
        ("now: JPEG 40 Mpx (draft mode)", "now", make("JPEG", (7300, 5479))),
        ("now: PNG 16.7 Mpx (the PNG limit)", "now", make("PNG", (4096, 4096))),
    ]
    print(f"three uploads at once, {args.runs} rounds; median seconds per upload, peak RSS per process")
    worst_s = worst_mb = 0.0
    for label, path, raw in cases:
        seconds, peak = measure(path, raw, args.runs)
        print(f"  {label:40s} {len(raw) / 1024:8.0f} KB  {seconds:6.2f} s  {peak:7.0f} MB")
        if path == "now":
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak)
    met = worst_s < 1 and worst_mb < 300
    print(f"Goal: each under 1 s and under 300 MB three at a time: worst {worst_s:.2f} s, {worst_mb:.0f} MB -> "
          f"{'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
