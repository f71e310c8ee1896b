"""URL map of the emulated PM, mounted at /sandbox/pm/.

Every view meets the faults configured for "pm" (sandbox.faults). The REST API and the
token endpoint are exempt from CSRF: their clients authenticate with bearer tokens or
client credentials, never cookies. The consent page is a browser form and keeps
Django's CSRF protection. Paths mirror Actionstep's (`/api/oauth/authorize`,
`/api/oauth/token`, `/api/rest/<resource>`) and take an optional trailing slash, since
Actionstep clients differ.
"""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import with_faults

from . import api, oauth

app_name = "sandbox_pm"


def _emulated(view):
    return csrf_exempt(with_faults("pm")(view))


def _resource_urls(name: str) -> list:
    return [
        re_path(
            rf"^api/rest/{name}/?$",
            _emulated(api.CollectionView.as_view(endpoint_name=name)),
            name=name,
        ),
        re_path(
            rf"^api/rest/{name}/(?P<ids>[^/]+)/?$",
            _emulated(api.MemberView.as_view(endpoint_name=name)),
            name=f"{name}-detail",
        ),
    ]


urlpatterns = [
    path(
        "api/oauth/authorize",
        with_faults("pm")(oauth.AuthorizeView.as_view()),
        name="authorize",
    ),
    path("api/oauth/token", _emulated(oauth.token), name="token"),
    path("api/", _emulated(api.IndexView.as_view()), name="api"),
    path("api/rest/", _emulated(api.IndexView.as_view()), name="rest"),
    re_path(
        r"^api/rest/actioncreate/?$",
        _emulated(api.ActionCreateView.as_view()),
        name="actioncreate",
    ),
    re_path(
        r"^api/rest/actioncreate/(?P<action_type_id>\d+)/?$",
        _emulated(api.ActionCreateView.as_view()),
        name="actioncreate-typed",
    ),
    *(url for name in api.ENDPOINTS for url in _resource_urls(name)),
    re_path(r"^api/rest/(?P<path>.*)$", _emulated(api.unknown_resource)),
]
