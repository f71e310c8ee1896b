"""The API's one error body, for every 4xx it answers:

    {"error": {"code": "invalid", "message": "reference: A reference may not ...",
               "fields": {"reference": ["A reference may not ..."]}}}

`code` is `invalid` for validation errors and DRF's own code otherwise
(`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`,
`method_not_allowed`, `unsupported_media_type`, `not_acceptable`, `parse_error`,
`throttled`), or `request_too_large` and `bad_request` for a body Django refuses while
it is read. `fields` maps each field (dotted when nested) to its messages; it is
empty when the error is not about fields. `message` names the first field at fault.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_fields(detail, path: str = "") -> dict[str, list[str]]:
    """Flatten DRF's validation detail to `{"field": ["message", ...]}`, nested names dotted."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for name, value in detail.items():
            fields.update(error_fields(value, f"{path}.{name}" if path else str(name)))
        return fields
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        fields = {}
        for index, item in enumerate(detail):
            fields.update(error_fields(item, f"{path}.{index}" if path else str(index)))
        return fields
    messages = detail if isinstance(detail, list) else [detail]
    if not messages:
        return {}
    return {path or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in messages]}


def validation_error_body(detail) -> dict:
    fields = error_fields(detail)
    if not fields:
        return error_body("invalid", "The request is not valid.")
    name, messages = next(iter(fields.items()))
    message = messages[0] if name == api_settings.NON_FIELD_ERRORS_KEY else f"{name}: {messages[0]}"
    return error_body("invalid", message, fields)


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is larger than the hub accepts."
    default_code = "request_too_large"


class BadRequest(exceptions.APIException):
    status_code = 400
    default_detail = "The request was refused."
    default_code = "bad_request"


def api_exception(exc):
    """The API error for an exception a view let through, or `exc` itself.

    Besides Django's 404 and 403: a body over MAX_REQUEST_BODY_BYTES or with too many
    fields, which Django refuses while DRF reads it, and a number too large for the
    database (SQLite can't bind one past 64 bits) are the caller's fault, not a 500.
    """
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return BadRequest(str(exc) or None)
    if isinstance(exc, OverflowError):
        return exceptions.ValidationError("A number in the request is out of range.")
    return exc


def api_exception_handler(exc, context) -> Response | None:
    """DRF's handler (status, WWW-Authenticate, Retry-After, rollback) with our body."""
    exc = api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_error_body(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(code, str(exc.detail))
    return response


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Django's 404 for a URL under the API that matches nothing, in the API's shape."""
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: `invalid`, `not_found`, …")
    message = serializers.CharField(help_text="A sentence for people; names the first field.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field (dotted when nested); empty when no field is at fault.",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (documentation only)."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input or filter value; `fields` names each parameter at fault.",
    401: "Not signed in: send `Authorization: Token <key>` or a session cookie.",
    403: "Signed in without the permission this needs.",
    404: "No such record.",
    409: "The request conflicts with the record's state (the message says how).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses, all with the one error body."""
    return {
        status: OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }
