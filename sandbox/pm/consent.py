"""Click through the sandbox PM's consent page from code, with plain `requests`.

Real Actionstep sends a person to its authorize page to sign in and allow an
application; the sandbox's page (`api/oauth/authorize`) asks only which user to sign in
as. Scripts, tests and the hub's "connect to the sandbox" need that click without a
browser:

- `approve(authorize_url)` opens the page, submits the form (CSRF token from the form
  and its cookie, as a browser would) and returns where the page redirected: the
  `redirect_uri` with `code` and `state`, or with `error`.
- `tool_token(base_url)` runs the whole authorization-code flow for a script (with
  PKCE and `state`) and returns the token answer.

No Django import: tools and the hub's processes can use it against any running server.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

AUTHORIZE_PATH = "/sandbox/pm/api/oauth/authorize"
TOKEN_PATH = "/sandbox/pm/api/oauth/token"
TOOL_REDIRECT_URI = "http://127.0.0.1/sandbox-tool-callback"


class ConsentError(Exception):
    """The consent page or the token endpoint did not answer as expected."""


class _ConsentForm(HTMLParser):
    """The form of the consent page: its action, CSRF token and the users offered."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.csrf_token = ""
        self.users: list[tuple[str, str]] = []  # (value, email)

    def handle_starttag(self, tag, attrs):
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = found.get("action", "")
        elif tag == "input" and found.get("name") == "csrfmiddlewaretoken":
            self.csrf_token = found.get("value", "")
        elif tag == "option":
            self.users.append((found.get("value", ""), found.get("data-email", "")))


def approve(
    authorize_url: str,
    *,
    session: requests.Session | None = None,
    user_email: str | None = None,
    decision: str = "allow",
    timeout: float = 10,
) -> str:
    """Answer the consent page at `authorize_url` as the user with `user_email` (default:
    the first one offered) and return the `Location` it redirects to. The redirect is not
    followed. A request the page refuses to redirect (unknown client, unregistered
    redirect host) raises ConsentError; one it refuses by redirecting returns that
    redirect."""
    http = session or requests.Session()
    page = http.get(authorize_url, timeout=timeout, allow_redirects=False)
    if page.is_redirect:
        return page.headers["Location"]
    if page.status_code != 200:
        raise ConsentError(f"The consent page answered {page.status_code}: {page.text[:500]}")
    form = _ConsentForm()
    form.feed(page.text)
    data = {"csrfmiddlewaretoken": form.csrf_token, "decision": decision}
    if decision == "allow":
        if not form.users:
            raise ConsentError("The sandbox PM has no active user to sign in as.")
        chosen = [value for value, email in form.users if user_email in (None, email)]
        if not chosen:
            raise ConsentError(f"No active sandbox PM user has the email {user_email}.")
        data["user"] = chosen[0]
    target = urljoin(authorize_url, form.action or "")
    answer = http.post(
        target,
        data=data,
        headers={"Referer": authorize_url},
        timeout=timeout,
        allow_redirects=False,
    )
    if not answer.is_redirect:
        raise ConsentError(f"The consent form answered {answer.status_code}: {answer.text[:500]}")
    return answer.headers["Location"]


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def tool_token(
    base_url: str,
    *,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",  # noqa: S107 (the sandbox's published default)
    scope: str = "all",
    timeout: float = 10,
) -> dict:
    """The whole flow for a script against the server at `base_url` (its root, e.g.
    `http://127.0.0.1:8000`): consent as the first active user, with redirect_uri
    `http://127.0.0.1/sandbox-tool-callback` (never fetched), then trade the code.
    Returns the token answer: access_token, token_type, expires_in, refresh_token,
    api_endpoint, orgkey."""
    root = base_url.rstrip("/")
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": TOOL_REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with requests.Session() as http:
        location = approve(
            f"{root}{AUTHORIZE_PATH}?{urlencode(query)}", session=http, timeout=timeout
        )
        answer = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        if "error" in answer:
            raise ConsentError(
                f"Authorization refused: {answer['error']} {answer.get('error_description', '')}"
            )
        if answer.get("state") != state:
            raise ConsentError("The authorize page returned another state.")
        response = http.post(
            f"{root}{TOKEN_PATH}",
            data={
                "grant_type": "authorization_code",
                "code": answer.get("code", ""),
                "redirect_uri": TOOL_REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            timeout=timeout,
        )
    if response.status_code != 200:
        raise ConsentError(
            f"The token endpoint answered {response.status_code}: {response.text[:500]}"
        )
    return response.json()
