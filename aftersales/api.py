"""API plumbing shared by every app: one error shape, role permissions, pagination, throttles."""

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aftersales.errors import DatabaseUnavailable, DomainError, FieldInvalid, InvalidCursor
from aftersales.roles import in_group, needs_role
from aftersales.transactions import contended, contention_error

log = logging.getLogger(__name__)

_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "not_allowed",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "invalid",
}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "lines.0.quantity": [...]}."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                # A nested list or object's own error ("lines": not a list, empty) names that field.
                if prefix and key == "non_field_errors":
                    walk(prefix, sub)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
            for i, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{i}" if prefix else str(i), sub)
        elif isinstance(value, list):
            out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    body = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


RETRY_AFTER_SECONDS = 2


def exception_handler(exc, context):
    """Every 4xx in one shape: {"code", "detail", "fields"?}. A deadlock or serialization failure that
    reached the view (a service's own retry spent, or none) is a 409 in words, not a 500; any other
    OperationalError (a busy SQLite, a database out of reach) is a 503 in the same shape, with Retry-After,
    never Django's HTML error page."""
    if isinstance(exc, OperationalError):
        if contended(exc):
            exc = contention_error()
        else:
            log.warning("database unavailable: %s", exc)
            exc = DatabaseUnavailable(_("The database is busy or out of reach. Please try again in a moment."))
    if isinstance(exc, DomainError):
        response = Response(error_body(exc.code, exc.detail, exc.fields), status=exc.status)
        if isinstance(exc, DatabaseUnavailable):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), getattr(exc, "default_code", "error"))
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()))
        detail = f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
        response.data = error_body(code, detail, fields)
    else:
        response.data = error_body(code, str(exc.detail))
    return response


def validate(serializer_class, data, **kwargs) -> dict:
    """Validate input with a serializer; raise the 400 that names each field."""
    if not isinstance(data, dict):
        raise FieldInvalid(_("The body must be a JSON object."), field="non_field_errors")
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def InGroup(*groups: str):  # noqa: N802 - reads like a class at the use site
    """Permission: the user is in one of ``groups`` (superusers always are)."""

    class _InGroup(permissions.BasePermission):
        @property
        def message(self) -> str:  # DRF reads it per request: in the caller's language
            return needs_role(*groups)

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and in_group(request.user, *groups))

    _InGroup.__name__ = f"InGroup_{'_'.join(groups)}"
    return _InGroup


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # the cursor's position is checked against the ordering field's type
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        # DRF falls back to the default for a page size it cannot read: say so instead (400 naming it).
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0
        if not 1 <= size <= self.max_page_size:
            raise FieldInvalid(_("A whole number from %(minimum)s to %(maximum)s.")
                               % {"minimum": 1, "maximum": self.max_page_size}, field=self.page_size_query_param)
        return size

    def decode_cursor(self, request):
        # A cursor that does not decode is bad input (400 naming it), not a missing object (DRF says 404);
        # so is a position that is not a value of the ordering field (DRF would hand it to the database).
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                cursor = cursor._replace(position=self._position(cursor.position))
        except (exceptions.NotFound, DjangoValidationError, ValueError, TypeError, OverflowError):
            raise InvalidCursor(_("Not a cursor this list gave out: start again from the first page."),
                                field=self.cursor_query_param) from None
        return cursor

    def _position(self, position: str) -> str:
        """The position as the ordering field's value, written as DRF writes the positions it gives out
        (str of the value read back: times in UTC); raises for anything the database could not compare."""
        name = self.ordering[0].lstrip("-")
        field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
        if "\x00" in position:
            raise ValueError(position)
        value = field.to_python(position)
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                raise ValueError(position)
            # In UTC: PostgreSQL refuses offsets beyond 15:59; a time off the calendar in UTC is OverflowError.
            value = value.astimezone(dt.UTC)
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(position)
        return str(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class MoneyField(serializers.DecimalField):
    """An amount as a string with two decimals, e.g. "43.60"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


# JSON's own types, strictly: DRF also takes "2" and 2.0 for an integer, "yes", "on" and 1 for a boolean, and a
# number for text. The message is DRF's own (translated by DRF), naming the field like any other.
class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable, e.g. invalid_transition")
    detail = serializers.CharField(help_text="for people")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="validation errors by field, e.g. lines.0.quantity")


_ERROR_MEANING = {
    400: "Invalid input; `fields` names each field at fault. Nothing was changed.",
    401: "No valid credentials (send `Authorization: Token <token>`).",
    403: "Your role may not do this.",
    404: "No such object among those you may see.",
    409: "Not allowed in the ticket's current state, or a concurrent change won.",
    422: "Idempotency-Key reused with a different body (`idempotency_key_reused`).",
    429: "Rate-limited; retry later.",
    503: "The database is busy or out of reach (`database_unavailable`); retry after `Retry-After` seconds.",
}


def error_responses(*codes: int) -> dict:
    """OpenAPI entries for the error responses an endpoint can give (all in the one error shape)."""
    return {code: OpenApiResponse(ErrorOutput, description=_ERROR_MEANING[code])
            for code in (401, 429, *codes, 503)}
