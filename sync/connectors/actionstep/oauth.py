"""Signing in to Actionstep: the OAuth2 authorization-code grant and its refresh.

What real Actionstep does (docs/actionstep-fidelity.md, "Authorization"):
- only the authorization-code grant ("Authorization grant type only", API wiki); a person
  of the firm consents at `…/api/oauth/authorize`, and the code is exchanged at
  `…/api/oauth/token` with the client id and secret in the form body (Actionstep's demo
  client);
- the token answer carries `access_token`, `token_type`, `expires_in`, `refresh_token`,
  `api_endpoint` (the org's regional REST host, e.g. `https://ap-southeast-2.actionstep.com/api/`)
  and `orgkey`; a refresh answers the same, with a new refresh token every time, so the
  one used must never be used again;
- the scope is required and names the domain areas the client was granted.

The grant code is authlib's (`OAuth2Session`): this module only says which endpoints,
scopes and fields, and turns failures into `ConnectorError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from sync.connectors.base import ConnectorError, ErrorKind

# The resources the hub reads or writes in PM, which are also the scope names Actionstep
# support grants per client (docs.actionstep.com/api-scopes). One list, asked for at
# consent and shown on the connection page.
SCOPES = (
    "participants",
    "actions",
    "actioncreate",
    "actionparticipants",
    "participanttypes",
    "actiontypes",
    "timeentries",
    "users",
    "resthooks",
    # Matter balances written into PM (sync/connectors/actionstep/datacollections.py). A
    # client Actionstep did not grant them still syncs: only those writes fail.
    "datacollections",
    "datacollectionfields",
    "datacollectionrecords",
    "datacollectionrecordvalues",
)

# OAuth2 `error` values that mean the grant itself is gone: a person must connect again.
GRANT_REFUSED = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


@dataclass(frozen=True)
class TokenGrant:
    """A token answer: what the hub stores for the connection."""

    access_token: str
    refresh_token: str
    expires_in: int
    api_endpoint: str
    orgkey: str

    @classmethod
    def from_answer(cls, answer: dict) -> TokenGrant:
        missing = [name for name in ("access_token", "api_endpoint") if not answer.get(name)]
        if missing:
            raise ConnectorError(
                message="Practice Management's token answer has no " + ", ".join(missing) + ".",
                kind=ErrorKind.TRANSIENT,
                system="pm",
                code="token_answer_incomplete",
            )
        try:
            expires_in = int(answer.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0
        return cls(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer.get("refresh_token") or ""),
            # Observed as a number and, re-serialised by proxies, as a string; without
            # one, assume Actionstep's documented hour.
            expires_in=expires_in or 3600,
            api_endpoint=str(answer["api_endpoint"]),
            orgkey=str(answer.get("orgkey") or ""),
        )


@dataclass(frozen=True)
class Credentials:
    """An access token and the org's API endpoint it is for."""

    access_token: str
    api_endpoint: str
    expires_at: datetime
    version: int = 0


def rest_base(api_endpoint: str) -> str:
    """The REST base for a token's `api_endpoint`: `https://host/api/` → `https://host/api/rest/`.

    Actionstep answers the endpoint with a trailing slash; clients that met it in production
    append `rest/`, and some were given it with `/rest` already (forsyteco, dbc-tech).
    """
    base = api_endpoint.rstrip("/")
    if not base.endswith("/rest"):
        base += "/rest"
    return base + "/"


class ActionstepOAuth:
    def __init__(
        self,
        *,
        authorize_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float,
        pkce: bool = False,
    ):
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.timeout = timeout
        self.pkce = pkce

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=" ".join(SCOPES),
            redirect_uri=self.redirect_uri,
            token_endpoint_auth_method="client_secret_post",
            code_challenge_method="S256" if self.pkce else None,
        )

    def authorization_url(self, *, state: str, code_verifier: str | None = None) -> str:
        """Where to send the person who connects the org."""
        with self._session() as session:
            url, _ = session.create_authorization_url(
                self.authorize_url,
                state=state,
                code_verifier=code_verifier if self.pkce else None,
            )
        return url

    def token_from_code(self, *, code: str, code_verifier: str | None = None) -> TokenGrant:
        extra = {"code_verifier": code_verifier} if self.pkce and code_verifier else {}
        with self._session() as session:
            return self._ask(
                lambda: session.fetch_token(
                    self.token_url,
                    grant_type="authorization_code",
                    code=code,
                    timeout=self.timeout,
                    **extra,
                )
            )

    def token_refreshed(self, *, refresh_token: str) -> TokenGrant:
        """A new pair for the refresh token; the one given is spent whatever happens next."""
        with self._session() as session:
            return self._ask(
                lambda: session.refresh_token(
                    self.token_url,
                    refresh_token=refresh_token,
                    # Actionstep's demo client sends it on refresh too.
                    redirect_uri=self.redirect_uri,
                    timeout=self.timeout,
                )
            )

    def _ask(self, request) -> TokenGrant:
        try:
            answer = request()
        except OAuthError as error:
            refused = error.error in GRANT_REFUSED
            return self._raise(
                ErrorKind.AUTH if refused else ErrorKind.PERMANENT,
                f"Practice Management refused the sign-in: {error.error}"
                + (f" ({error.description})" if error.description else "")
                + ".",
                code=error.error or "oauth_error",
            )
        except requests.Timeout:
            return self._raise(
                ErrorKind.UNREACHABLE, "Practice Management sign-in did not answer in time."
            )
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else None
            transient = status is None or status == 429 or status >= 500
            kind = ErrorKind.TRANSIENT if transient else ErrorKind.AUTH
            return self._raise(
                kind, f"Practice Management sign-in failed with HTTP {status}.", status=status
            )
        except (requests.RequestException, ValueError) as error:
            return self._raise(
                ErrorKind.UNREACHABLE, f"Practice Management sign-in is unreachable: {error}"
            )
        return TokenGrant.from_answer(dict(answer))

    def _raise(self, kind: str, message: str, **extra):
        raise ConnectorError(message=message, kind=kind, system="pm", **extra)
