"""manage.py import_orders FILE: upsert orders from JSON lines, one order per line."""

import json
import sys

from django.core.management.base import CommandError
from tqdm import tqdm

from aftersales.management.base import RecordedCommand
from orders.services import import_orders


class Command(RecordedCommand):
    help = "Upsert orders from a JSON-lines file; a bad line is reported and skipped, the rest import."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the JSON-lines file, or - for standard input")

    def handle(self, *args, file, **options):
        try:
            # Bytes: each line is decoded on its own, so one line that is not UTF-8 is refused, not fatal.
            stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        with stream:
            lines = stream.readlines()
        unreadable: list[tuple[int, str]] = []  # (line number, why): lines that never became an order

        def orders():
            progress = tqdm(lines, unit="order", disable=not sys.stderr.isatty(), file=sys.stderr)
            for number, raw in enumerate(progress, start=1):
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw.decode("utf-8-sig"))
                except UnicodeDecodeError as exc:
                    unreadable.append((number, f": not UTF-8 text (byte {exc.start + 1})"))
                    continue
                except (json.JSONDecodeError, RecursionError) as exc:
                    unreadable.append((number, f": malformed JSON ({exc.msg if hasattr(exc, 'msg') else exc})"))
                    continue
                yield number, data

        result = import_orders(orders())
        refused = sorted([*unreadable, *((order.position, _named(order)) for order in result.refused)])
        for number, why in refused:
            self.stderr.write(f"refused line {number}{why}")
        self.stdout.write(f"{result.created} created, {result.updated} updated, {len(refused)} refused")


def _named(order) -> str:
    label = f" ({order.order_no})" if isinstance(order.order_no, str) else ""
    return f"{label}: {order.field or 'order'}: {order.detail}"
