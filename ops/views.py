"""`/healthz`, `/readyz` and `/metrics`, served by `OperationsEndpointsMiddleware`."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from .health import readiness
from .metrics import metrics_authorised, web_metrics


def healthz(request) -> HttpResponse:
    """Alive: the process answers. Nothing else is asked, so a database or a system
    that is down never gets a healthy web process restarted."""
    return _no_store(JsonResponse({"status": "ok"}))


def readyz(request) -> HttpResponse:
    """Ready: 200 when every check passes, else 503; the body names each check."""
    results = readiness()
    ready = all(result.ok for result in results)
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {result.name: result.as_json() for result in results},
    }
    response = JsonResponse(body, status=200 if ready else 503)
    # Django logs every 5xx answer as an error (and Sentry would report each probe): a
    # check that fails is the answer here, not a fault of the page.
    response._has_been_logged = True
    return _no_store(response)


def metrics(request) -> HttpResponse:
    """Prometheus text format, to `Authorization: Bearer <METRICS_TOKEN>` only; 404
    while no token is set (metrics off), 401 for a missing or wrong one."""
    if not settings.METRICS_TOKEN:
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    if not metrics_authorised(request.headers.get("Authorization")):
        response = HttpResponse(
            "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return _no_store(HttpResponse(web_metrics(), content_type=CONTENT_TYPE_LATEST))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
