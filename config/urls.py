from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sync import webhooks

urlpatterns = [
    # The hub is used through its admin: the site's root leads there.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("webhooks/pm/<str:event>/<str:secret>/", webhooks.pm_resthook, name="webhook-pm"),
    path("webhooks/la/", webhooks.la_webhook, name="webhook-la"),
    # Swagger UI for signed-in users (others go to the login page); its script is a file
    # of its own, so the Content-Security-Policy needs no inline script for it.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
