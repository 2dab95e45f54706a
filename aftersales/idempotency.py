"""Idempotency-Key for creating POSTs (API.md, General).

The same key with the same body returns the original response (same status, same body) without
doing anything again; the same key with another body is 422 ``idempotency_key_reused``. Keys are
scoped to the caller and the endpoint, and kept at least 24 hours (purged after 48).

How concurrent duplicates are handled: the key row is inserted first, in the same transaction as
the work. A second request with the same key blocks on the unique index until the first commits,
then finds the stored response and returns it. If the first fails (a 4xx), its transaction rolls
back with the key row, and the next request with the key simply runs again.
"""

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from aftersales.errors import FieldInvalid, IdempotencyKeyReused
from aftersales.models import IdempotencyKey

HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    if request.content_type and request.content_type.startswith("multipart/"):
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(name.encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
        data = {k: request.data.getlist(k) for k in sorted(request.data) if k not in request.FILES}
    else:
        data = request.data
    digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def idempotent(view_method):
    """Decorate an APIView's ``post``."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not key.strip() or len(key) > 255:
            raise FieldInvalid(_("A non-empty key of at most 255 characters."), field=HEADER)
        scope, fingerprint = f"{request.method} {request.path}"[:200], _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=request.user, key=key, scope=scope,
                                                           request_hash=fingerprint)
            except IntegrityError:
                # The first request with this key has committed (we waited for it on the index).
                record = IdempotencyKey.objects.get(user=request.user, key=key, scope=scope)
                if record.request_hash != fingerprint:
                    raise IdempotencyKeyReused(_("This Idempotency-Key was used with another request body."),
                                               field=HEADER) from None
                response = Response(record.response_body, status=record.response_status)
                response["Idempotent-Replayed"] = "true"
                return response
            response = view_method(self, request, *args, **kwargs)
            record.response_status = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["response_status", "response_body"])
            return response

    return wrapper
