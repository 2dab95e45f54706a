"""Uploads at the limit: what decoding and re-encoding a photo costs, alone and three at a time.

    .venv/bin/python bench/uploads.py [--runs 3]

Three uploads at once, each in its own process, as three gunicorn workers would, for each case:

- before (the code before issue #19, copied below as ``_before``: every lossless pixel up to 4096 x 4096,
  RGB conversion, two extra copies of the pixels, PNG at zlib level 1): a 4096 x 4096 lossless WebP and a
  4096 x 4096 PNG, the finding's case;
- now (``tickets.uploads``' own decode and re-encode, with the settings' limits): a lossless WebP and a PNG
  at the lossless limit (UPLOAD_MAX_PIXELS_LOSSLESS), and a 40 Mpx JPEG (the JPEG limit, draft mode).

The pictures are gradients with a little noise and some lines, as a screenshot of a photo: each file is
under the byte limit (UPLOAD_MAX_BYTES). Prints each case's median wall time per upload, its median CPU
time per upload (what other load on the machine distorts least) and the processes' highest peak memory
(VmHWM, Django included). Goal: three at once each under 1 s and under 300 MB. Then what a 1-bit PNG (a scanned
receipt) is stored as, before and now. Nothing is stored: only the decode and re-encode run.
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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()


def picture(size: tuple[int, int]):
    """A screenshot of a photo: smooth gradients, mild noise (what makes lossless files big), a few lines."""
    from PIL import Image, ImageChops, ImageDraw

    gradient = Image.linear_gradient("L").resize(size)
    across = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size)
    noise = Image.effect_noise(size, 6).point(lambda v: v // 8)  # 0..31: mild grain
    image = Image.merge("RGB", (gradient, ImageChops.add(across, noise), ImageChops.invert(gradient)))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 97):  # some detail, so the codecs have edges to work on
        draw.line([(x, 0), (size[0] - x, size[1])], fill=(x % 255, 40, 200), width=3)
    return image


def make(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85}, "WEBP": {"lossless": True}, "PNG": {}}[fmt]
    picture(size).save(out, fmt, **options)
    return out.getvalue()


def receipt_scan(size: tuple[int, int] = (1748, 2480)) -> bytes:
    """A 1-bit PNG, an A5 receipt at 300 dpi: text-like speckles on white."""
    from PIL import Image

    image = Image.effect_noise(size, 90).point(lambda v: 0 if v < 40 else 255).convert("1")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _now(raw: bytes) -> bytes:
    """Today's path: tickets.uploads' decode and re-encode."""
    from tickets import uploads

    return uploads._reencode(uploads._decode(raw))["bytes"]


def _before(raw: bytes) -> bytes:
    """The path before issue #19 (tickets/uploads.py at 58e5460), limits left out: the same pixel work."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(raw))
    image.load()
    fmt = image.format
    image = ImageOps.exif_transpose(image)
    image.thumbnail((4096, 4096))
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("P", "PA") else "RGB")
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "PNG": {"compress_level": 1}, "WEBP": {"quality": 90, "method": 2}}[fmt]
    fresh.save(out, format=fmt, **options)
    return out.getvalue()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """This process's peak RSS since it started its own program (VmHWM; ru_maxrss would count the pages of the
    parent it was forked from, before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(args):
    path, raw = args
    _setup()
    if path == "idle":
        return 0.0, 0.0, _peak_mb()
    from PIL import Image

    from tickets import uploads  # noqa: F401 - imported before the clock starts, as in a running server

    Image.init()
    started, cpu = time.perf_counter(), _cpu()
    (_now if path == "now" else _before)(raw)
    return time.perf_counter() - started, _cpu() - cpu, _peak_mb()


def measure(path: str, raw: bytes, runs: int) -> tuple[float, float, float]:
    times, cpus, peaks = [], [], []
    for _ in range(runs):
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            for seconds, cpu, peak in pool.map(_worker, [(path, raw)] * 3):
                times.append(seconds)
                cpus.append(cpu)
                peaks.append(peak)
    return statistics.median(times), statistics.median(cpus), max(peaks)


def side_at(limit: int) -> tuple[int, int]:
    side = int(limit ** 0.5)
    return side, limit // side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _setup()
    from django.conf import settings

    lossless = side_at(settings.UPLOAD_MAX_PIXELS_LOSSLESS)
    cases = [
        ("before: WebP lossless 4096 x 4096", "before", make("WEBP", (4096, 4096))),
        ("before: PNG 4096 x 4096", "before", make("PNG", (4096, 4096))),
        (f"now: WebP lossless {lossless[0]} x {lossless[1]}", "now", make("WEBP", lossless)),
        (f"now: PNG {lossless[0]} x {lossless[1]}", "now", make("PNG", lossless)),
        ("now: JPEG 7300 x 5479 (draft mode)", "now", make("JPEG", (7300, 5479))),
    ]
    print(f"three uploads at once, {args.runs} rounds, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; lossless limit {settings.UPLOAD_MAX_PIXELS_LOSSLESS:,} pixels")
    print(f"  {'case':40s} {'file':>9s}  {'wall s':>6s}  {'cpu s':>6s}  {'peak RSS':>8s}")
    print(f"  {'(a worker with Django set up, idle)':40s} {'':>9s}  {'':>6s}  {'':>6s}  "
          f"{measure('idle', b'', 1)[2]:5.0f} MB")
    worst_s = worst_mb = 0.0
    for label, path, raw in cases:
        assert len(raw) <= settings.UPLOAD_MAX_BYTES, (label, len(raw))
        seconds, cpu, peak = measure(path, raw, args.runs)
        print(f"  {label:40s} {len(raw) / 1024:6.0f} KB  {seconds:6.2f}  {cpu:6.2f}  {peak:5.0f} MB", flush=True)
        if path == "now":
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak)
    met = worst_s < 1 and worst_mb < 300
    print(f"Goal: each under 1 s and under 300 MB three at a time: worst {worst_s:.2f} s, {worst_mb:.0f} MB -> "
          f"{'met' if met else 'NOT MET'}")
    scan = receipt_scan()
    print(f"1-bit PNG (A5 at 300 dpi), {len(scan) / 1024:,.0f} KB uploaded: stored before "
          f"{len(_before(scan)) / 1024:,.0f} KB, now {len(_now(scan)) / 1024:,.0f} KB")


if __name__ == "__main__":
    main()
