from django.urls import include, path

from . import views

urlpatterns = [
    path("pm/", include("sandbox.pm.urls")),
    path("la/", include("sandbox.la.urls")),
    path("faults/<str:system>/", views.faults_control, name="sandbox-faults"),
]
