"""API plumbing shared by every app: one error shape, role permissions, pagination, throttles."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aftersales.errors import DomainError, FieldInvalid
from aftersales.roles import in_group, needs_role
from aftersales.transactions import contended, contention_error

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


def exception_handler(exc, context):
    """Every 4xx in one shape: {"code", "detail", "fields"?}. A deadlock or serialization failure that
    reached the view (a service's own retry spent, or none) is a 409 in words, not a 500."""
    if isinstance(exc, OperationalError) and contended(exc):
        exc = contention_error()
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.detail, exc.fields), status=exc.status)
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

    def decode_cursor(self, request):
        # A cursor that does not decode is bad input (400 naming it), not a missing object (DRF says 404).
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None


class MoneyField(serializers.DecimalField):
    """An amount as a string with two decimals, e.g. "43.60"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


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
}


def error_responses(*codes: int) -> dict:
    """OpenAPI entries for the error responses an endpoint can give (all in the one error shape)."""
    return {code: OpenApiResponse(ErrorOutput, description=_ERROR_MEANING[code]) for code in (401, 429, *codes)}
