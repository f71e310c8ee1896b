"""The operations endpoints, answered before any other middleware.

Load balancers, orchestrators and Prometheus call them by an address of their own (an
IP, a container name) and over plain HTTP inside the network. Answered here, first, they
need no entry in `DJANGO_ALLOWED_HOSTS`, are not redirected to HTTPS, and open no
session; what they reveal is guarded by the views themselves (docs/decisions.md).
"""

from django.http import HttpResponseNotAllowed

from . import views

ENDPOINTS = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.metrics,
}


class OperationsEndpointsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        view = ENDPOINTS.get(path[:-1] if path.endswith("/") and len(path) > 1 else path)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request)
