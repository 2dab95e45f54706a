"""manage.py import_orders FILE: upsert orders from JSON lines, one order per line."""

import json
import sys

from django.core.management.base import CommandError
from tqdm import tqdm

from aftersales.errors import DomainError
from aftersales.management.base import RecordedCommand
from orders.services import import_order


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
        created = updated = 0
        refused: list[str] = []
        with stream:
            lines = stream.readlines()
        progress = tqdm(lines, unit="order", disable=not sys.stderr.isatty(), file=sys.stderr)
        for number, raw in enumerate(progress, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                refused.append(f"line {number}: not UTF-8 text (byte {exc.start + 1})")
                continue
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                refused.append(f"line {number}: malformed JSON ({exc.msg if hasattr(exc, 'msg') else exc})")
                continue
            try:
                result = import_order(data)
            except DomainError as exc:
                label = data.get("order_no") if isinstance(data, dict) else None
                refused.append(f"line {number}{f' ({label})' if isinstance(label, str) else ''}: "
                               f"{exc.field or 'order'}: {exc.detail}")
                continue
            if result.created:
                created += 1
            else:
                updated += 1
        for message in refused:
            self.stderr.write(f"refused {message}")
        self.stdout.write(f"{created} created, {updated} updated, {len(refused)} refused")
