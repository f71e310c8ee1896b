"""HTTP views of the emulated PM's OAuth2 endpoints: authorize (a consent page) and token.

Real Actionstep (wiki Authorization page; Actionstep's demo client SignIn.razor.cs;
docs/actionstep-fidelity.md) offers the
authorization-code grant only, at `go.actionstep.com/api/oauth/authorize` and
`api.actionstep.com/api/oauth/token`; the sandbox serves the same paths under
`/sandbox/pm/`. The rules live in `services`; these views translate HTTP. Decisions:

- **Authorize** (`GET/POST api/oauth/authorize`): `response_type=code`, `client_id`,
  `redirect_uri`, `scope` (space-separated, required), optional `state` (echoed back, as
  RFC 6749 says; whether Actionstep echoes it is UNKNOWN) and optional PKCE
  `code_challenge` + `code_challenge_method=S256` (UNKNOWN for Actionstep: accepted, never
  required). An unknown client or a redirect_uri the firm did not register gets a 400
  page and no redirect (RFC 6749 §4.1.2.1); other errors redirect with `error` and
  `state`. The GET shows a consent page: the sandbox has no passwords, so "signing in"
  is choosing an active PM user. The POST (same URL, Django's CSRF protection) answers
  302 to `redirect_uri?code=...&state=...` on allow, `?error=access_denied&state=...` on
  deny.
- **Token** (`POST api/oauth/token`, form-encoded): the client authenticates with
  `client_id`/`client_secret` in the body (Actionstep's demo) or HTTP Basic (PHP SDK,
  simple-oauth2 clients). `grant_type=authorization_code` (+ `code`, `redirect_uri`,
  `code_verifier` when a challenge was sent) or `refresh_token` (+ `refresh_token`);
  anything else, client_credentials included, is `unsupported_grant_type`. Errors follow
  RFC 6749 §5.2 (`{"error", "error_description"}`, 401 with `WWW-Authenticate: Basic`
  for invalid_client, else 400): real Actionstep's error body is UNKNOWN. Success is
  the six fields of the demo's AccessTokenResponseDto: `{"access_token", "token_type":
  "bearer", "expires_in", "refresh_token", "api_endpoint", "orgkey"}`, with
  `Cache-Control: no-store`. `api_endpoint` is the API's absolute base ending in `/api/`
  (as observed: `https://ap-southeast-2.actionstep.com/api/`), so `{api_endpoint}rest/...`
  reaches the resources; `orgkey` is SANDBOX_PM_ORGKEY.
"""

import base64
import binascii
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from . import selectors, services


def _redirect(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    """`redirect_uri` with `params` added to its own query (empty ones left out)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value]
    return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))


class AuthorizeView(View):
    """The consent page (see the module docstring)."""

    http_method_names = ["get", "post"]
    template_name = "sandbox_pm/authorize.html"

    def _request(self, request: HttpRequest) -> services.AuthorizationRequest:
        query = request.GET
        return services.authorization_request_check(
            response_type=query.get("response_type", ""),
            client_id=query.get("client_id", ""),
            redirect_uri=query.get("redirect_uri", ""),
            scope=query.get("scope", ""),
            state=query.get("state", ""),
            code_challenge=query.get("code_challenge", ""),
            code_challenge_method=query.get("code_challenge_method", ""),
        )

    def _refused(self, request: HttpRequest, error: services.AuthorizeError) -> HttpResponse:
        if not error.redirectable:
            context = {"error": error.code, "description": error.description}
            return render(request, "sandbox_pm/authorize_error.html", context, status=400)
        return _redirect(
            request.GET.get("redirect_uri", ""),
            error=error.code,
            error_description=error.description,
            state=request.GET.get("state", ""),
        )

    def _page(self, request, authorization, *, problem: str = "", status: int = 200):
        context = {
            "authorization": authorization,
            "users": list(selectors.users_signing_in()),
            "problem": problem,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        try:
            authorization = self._request(request)
        except services.AuthorizeError as error:
            return self._refused(request, error)
        return self._page(request, authorization)

    def post(self, request):
        try:
            authorization = self._request(request)
        except services.AuthorizeError as error:
            return self._refused(request, error)
        decision = request.POST.get("decision")
        if decision == "deny":
            return _redirect(
                authorization.redirect_uri, error="access_denied", state=authorization.state
            )
        if decision != "allow":
            return self._page(request, authorization, problem="Choose Allow or Deny.", status=400)
        user_id = request.POST.get("user", "")
        user = (
            selectors.users_signing_in().filter(pk=user_id).first() if user_id.isdigit() else None
        )
        if user is None:
            problem = "Choose an active user to sign in as."
            return self._page(request, authorization, problem=problem, status=400)
        try:
            code = services.authorization_code_issue(request=authorization, user=user)
        except ValidationError as error:
            return self._page(request, authorization, problem=" ".join(error.messages), status=400)
        return _redirect(authorization.redirect_uri, code=code, state=authorization.state)


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    """HTTP Basic (RFC 6749 §2.3.1) if sent, else `client_id`/`client_secret` in the body."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise services.TokenError("invalid_client", "Malformed Basic credentials.") from None
        client_id, _, client_secret = decoded.partition(":")
        return unquote(client_id), unquote(client_secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _required(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if not value:
        raise services.TokenError("invalid_request", f"{name} is required.")
    return value


def _grant(request: HttpRequest, client_id: str) -> services.IssuedToken:
    grant_type = request.POST.get("grant_type", "")
    if grant_type == "authorization_code":
        return services.token_from_authorization_code(
            client_id=client_id,
            code=_required(request, "code"),
            redirect_uri=_required(request, "redirect_uri"),
            code_verifier=request.POST.get("code_verifier", ""),
        )
    if grant_type == "refresh_token":
        return services.token_refresh(
            client_id=client_id, refresh_token=_required(request, "refresh_token")
        )
    if not grant_type:
        raise services.TokenError("invalid_request", "grant_type is required.")
    raise services.TokenError(
        "unsupported_grant_type",
        "Actionstep supports the authorization_code grant (and refresh_token) only.",
    )


def token(request: HttpRequest) -> JsonResponse:
    """OAuth2 token endpoint: authorization_code and refresh_token grants (see module doc)."""
    if request.method != "POST":
        body = {"error": "invalid_request", "error_description": "Use POST."}
        return JsonResponse(body, status=405)
    try:
        client_id, client_secret = _client_credentials(request)
        services.client_authenticate(client_id, client_secret)
        issued = _grant(request, client_id)
    except services.TokenError as error:
        status = 401 if error.code == "invalid_client" else 400
        body = {"error": error.code, "error_description": error.description}
        response = JsonResponse(body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Basic realm="sandbox-pm"'
        response["Cache-Control"] = "no-store"
        return response
    response = JsonResponse(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
            "api_endpoint": request.build_absolute_uri(reverse("sandbox_pm:api")),
            "orgkey": settings.SANDBOX_PM_ORGKEY,
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
