"""The error answers of the emulated PM API, one shape for every failure.

Real Actionstep: "If an error occurs while processing the request the only top-level
object that will be return is: errors" (wiki "Responses", page 12025906). What sits
inside `errors` is UNKNOWN in public sources; the emulator chooses JSON:API-like entries,
one per property or parameter at fault:

    {"errors": [{"status": "500", "code": "1300", "title": "...", "detail": "...",
                 "source": {"pointer": "/participants/displayName"}}]}

`source` is `{"pointer": "/<resource>/<property>"}` (links as `/<resource>/links/<name>`)
for a property of a body, `{"parameter": "<name>"}` for a query parameter, and absent
when nothing narrower than the request is at fault.

Statuses (wiki "Error Codes", page 13140251): 400 a badly structured request (bad JSON,
an unknown query parameter or body property, a bad filter value, a body of the wrong
shape); 401 a missing, unknown, expired or revoked token; 403 a token without the scope;
404; 405; 415; and **500 for a record that breaks a rule**, since "Actionstep specific
error codes ... may be returned with one of the above HTTP status codes, most commonly
500 Internal Server Error". A rule answer's `code` is the wiki's resource code where one
fits ("Resource Error Codes", page 16187455: A01, A02, P01, TR03) and otherwise the group
code 1300 ("handling the Request"); which number goes with which rule is the emulator's
choice. Other statuses carry a word (`bad_request`, `invalid_token`, `insufficient_scope`
after seth-inertia-legal/actionstep-export-tool docs/api-quirks.md, a single source).
"""

from __future__ import annotations

from dataclasses import dataclass

MEDIA_TYPE = "application/vnd.api+json"
HANDLING_THE_REQUEST = "1300"

# Titles of the codes the emulator uses; the lettered ones quote the wiki's messages.
TITLES = {
    HANDLING_THE_REQUEST: "The request could not be handled.",
    "A01": 'Invalid "status" value.',
    "A02": 'The "priority" must be numeric.',
    "P01": 'The "isCompany" must be "T" or "F".',
    "TR03": "The owner must be a system user.",
    "bad_request": "Badly structured request.",
    "invalid_token": "The access token is missing, unknown, expired or revoked.",
    "insufficient_scope": "The access token lacks the scope this resource needs.",
    "not_found": "Not found.",
    "method_not_allowed": "Method not allowed.",
    "unsupported_media_type": "Unsupported media type.",
}


@dataclass(frozen=True)
class Problem:
    """One entry of `errors`."""

    status: int
    code: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None

    def render(self) -> dict:
        entry = {
            "status": str(self.status),
            "code": self.code,
            "title": TITLES.get(self.code, self.detail),
            "detail": self.detail,
        }
        if self.pointer is not None:
            entry["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            entry["source"] = {"parameter": self.parameter}
        return entry


class ApiError(Exception):
    """Answer these problems; the first one's status is the answer's status."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(problem.detail for problem in problems))
        self.problems = problems

    @property
    def status(self) -> int:
        return self.problems[0].status


def bad_request(detail: str, *, pointer: str | None = None, parameter: str | None = None):
    return Problem(400, "bad_request", detail, pointer=pointer, parameter=parameter)


def rule_broken(detail: str, *, code: str = HANDLING_THE_REQUEST, pointer: str | None = None):
    return Problem(500, code, detail, pointer=pointer)


def errors_body(problems: list[Problem]) -> dict:
    return {"errors": [problem.render() for problem in problems]}
