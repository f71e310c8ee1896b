from django.urls import include, path

from . import views
from .admin_site import sandbox_admin_site

urlpatterns = [
    path("admin/", sandbox_admin_site.urls),
    path("pm/", include("sandbox.pm.urls")),
    path("la/", include("sandbox.la.urls")),
    path("faults/<str:system>/", views.faults_control, name="sandbox-faults"),
]
