from django.contrib import admin

from .admin_site import sandbox_admin_site
from .models import FaultConfig


@admin.register(FaultConfig, site=sandbox_admin_site)
class FaultConfigAdmin(admin.ModelAdmin):
    list_display = [
        "system",
        "seed",
        "latency_ms",
        "error_rate",
        "rate_limit_rate",
        "hang_rate",
        "drop_rate",
        "updated_at",
    ]
