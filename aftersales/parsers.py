"""The API's one parser: JSON (API.md; uploads declare multipart themselves, so the schema tells generated
clients exactly that). Its own module: DRF imports it from the settings while other modules import DRF."""

import io

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status

from aftersales.errors import FieldInvalid


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class JsonParser(parsers.JSONParser):
    """JSON only (API.md), and hostile JSON is a 400, not a crash: nesting deep enough to exhaust the
    parser's recursion, or text that is not valid Unicode (a lone surrogate escape). A body over Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before it is read: DRF reads JSON from the stream itself, past
    the limit Django holds for forms."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            raw = stream.read(limit + 1) if stream is not None else b""
            if len(raw) > limit:
                raise RequestTooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})
            stream = io.BytesIO(raw)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply.")) from None
        _check_text(data)
        return data


def _check_text(value) -> None:
    """Refuse strings that cannot be stored or encoded (lone surrogates such as "\\ud800"), naming where
    they are ("description", "lines.0.order_line_id"). Iterative: the data may be nested as deep as the
    parser allowed."""
    pending = [(value, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise FieldInvalid(_("Text that is not valid Unicode."), field=path or "non_field_errors") from None
        elif isinstance(item, dict):
            for key, inner in item.items():
                pending.append((key, path or "non_field_errors"))
                pending.append((inner, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            pending.extend((inner, f"{path}.{i}" if path else str(i)) for i, inner in enumerate(item))
