from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

rate = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class FaultConfig(models.Model):
    """Faults one emulated system injects into its API, changeable while it runs.

    Rates are probabilities per request, drawn from a generator seeded with `seed`,
    so the same sequence of requests meets the same faults again.
    """

    class System(models.TextChoices):
        PM = "pm", "Practice Management"
        LA = "la", "Legal Accounting"

    system = models.CharField(max_length=2, choices=System.choices, unique=True)
    seed = models.IntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every request.")
    error_rate = models.FloatField(default=0.0, validators=rate, help_text="Answer 503.")
    rate_limit_rate = models.FloatField(
        default=0.0, validators=rate, help_text="Answer 429 with Retry-After."
    )
    retry_after_seconds = models.PositiveIntegerField(default=1)
    hang_rate = models.FloatField(
        default=0.0, validators=rate, help_text="Hang for hang_seconds, then answer 504."
    )
    hang_seconds = models.FloatField(default=15.0, validators=[MinValueValidator(0.0)])
    drop_rate = models.FloatField(
        default=0.0,
        validators=rate,
        help_text="Writes only: commit, then hang for hang_seconds and answer 504 "
        "instead of the real response (the client never learns the write happened).",
    )
    requests_per_minute = models.PositiveIntegerField(
        default=0,
        help_text="Enforce this limit on API requests in any 60 seconds, as the real "
        "system's throttling does: 429 with Retry-After beyond it. 0: no limit. Sign-in "
        "(OAuth) requests are not counted.",
    )
    requests_limited = models.PositiveIntegerField(
        default=0, help_text="Requests answered 429 by the limit above."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "fault configuration"

    def __str__(self) -> str:
        return f"Faults for {self.get_system_display()}"


class RequestSecond(models.Model):
    """How many API requests one emulated system answered in one second (Unix time), for
    the rate limit every server process of the sandbox enforces together."""

    system = models.CharField(max_length=2, choices=FaultConfig.System.choices)
    second = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "second"], name="sandbox_request_second")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.second}: {self.count}"
