"""`Idempotency-Key` on POST: a repeated key answers the stored original response.

Rules and decisions:

- Only authenticated POSTs with the header take part; anything else runs as usual.
- The key row, the work and the stored response are written in one transaction
  (`using="sandbox"`), so a key is never seen without its response, and a failed or
  5xx request leaves no key behind (the client may retry it).
- The race is settled by the unique constraint on `IdempotencyKey.key`, not by a read
  before the write: of two concurrent requests with one key, the second insert waits
  for the first transaction and fails, and that request replays the first's response.
- Replays carry `Idempotent-Replayed: true`. A key reused with a different method,
  path or body answers 422 `idempotency_key_reused` and runs nothing.
- Fault injection wraps outside this (urls.py): when a fault drops the response after
  the commit, the client's retry with the same key gets the original answer.
"""

import functools
import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from sandbox.routers import SANDBOX_DATABASE

from .authentication import token_is_valid
from .errors import BadRequest, Invalid
from .models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length


class _NotStored(Exception):
    """Carries a 5xx response out of the transaction so that the key is rolled back."""

    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def _fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotent(view):
    """Decorate an API view so that its POSTs honour `Idempotency-Key`."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        key = request.META.get(HEADER, "").strip()
        authorised = token_is_valid(request.META.get("HTTP_AUTHORIZATION", ""))
        if request.method != "POST" or not key or not authorised:
            return view(request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            error = BadRequest(f"an Idempotency-Key has at most {MAX_KEY_LENGTH} characters")
            return JsonResponse(error.body(), status=error.status)
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic(using=SANDBOX_DATABASE):
                try:
                    with transaction.atomic(using=SANDBOX_DATABASE):
                        record = IdempotencyKey.objects.create(
                            key=key,
                            method=request.method,
                            path=request.path,
                            fingerprint=fingerprint,
                        )
                except IntegrityError:
                    record = None
                if record is not None:
                    response = view(request, *args, **kwargs)
                    if hasattr(response, "render"):
                        response.render()
                    if response.status_code >= 500:
                        raise _NotStored(response)
                    IdempotencyKey.objects.filter(pk=record.pk).update(
                        status_code=response.status_code, body=response.content.decode()
                    )
                    return response
        except _NotStored as not_stored:
            return not_stored.response
        return _replay(key=key, fingerprint=fingerprint)

    return wrapped


def _replay(*, key: str, fingerprint: str) -> HttpResponse:
    original = IdempotencyKey.objects.get(key=key)
    if original.fingerprint != fingerprint:
        error = Invalid(
            "this Idempotency-Key was already used for a different request",
            code="idempotency_key_reused",
        )
        return JsonResponse(error.body(), status=error.status)
    response = HttpResponse(
        original.body, status=original.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response
