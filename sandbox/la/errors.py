"""The errors LA's services raise, each with the HTTP status and body the API answers.

Every error body has one shape (docs/legal-accounting-api.md "Errors"):
`{"error": {"code": "...", "message": "a human sentence", "field": "<field or null>", ...}}`
where `...` is extra detail such as `value` and `conflict` on a clash.
"""


class LAError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str = "", **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra

    def body(self) -> dict:
        return {
            "error": {"code": self.code, "message": self.message, "field": self.field, **self.extra}
        }


class BadRequest(LAError):
    """The request itself is malformed (a query parameter, a batch that is too big)."""


class NotFound(LAError):
    status = 404
    code = "not_found"


class Invalid(LAError):
    """The request is well formed but breaks a rule (a bad contact number, no trust funds)."""

    status = 422
    code = "invalid"


class Conflict(LAError):
    """A unique value is already held by another record; `conflict` names that record."""

    status = 409
    code = "already_assigned"


class Locked(LAError):
    """The record was billed and can no longer be changed or deleted."""

    status = 409
    code = "locked"


def _code(error) -> str:
    code = getattr(error, "code", "invalid")
    if code in {"required", "null", "blank"}:
        return "required"
    if code == "does_not_exist":
        return "does_not_exist"
    return "invalid"


def first_error(errors, path: tuple[str, ...] = ()) -> tuple[str | None, str, str]:
    """The first `(field, message, code)` in DRF-style validation errors.

    Nested fields are dotted (`main_address.post_code`); codes are folded into the
    API's few (`required`, `does_not_exist`, `invalid`).
    """
    if isinstance(errors, dict):
        name, value = next((k, v) for k, v in errors.items() if v)
        if name != "non_field_errors":
            path = (*path, str(name))
        return first_error(value, path)
    if isinstance(errors, list):
        return first_error(next(item for item in errors if item), path)
    field = ".".join(path) or None
    message = str(errors)
    return field, f"{field}: {message}" if field else message, _code(errors)
