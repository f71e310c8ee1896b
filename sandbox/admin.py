from django.contrib import admin

from .models import FaultConfig


@admin.register(FaultConfig)
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
