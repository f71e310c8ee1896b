"""Fault injection for the emulated systems' APIs.

Each request draws once from a per-system random generator seeded from FaultConfig,
so a run repeated from the same seed meets the same faults in the same order (within
one server process). The draw decides, in this order: 503, 429, hang, and, for
writes, "commit then drop the response". Each system answers a fault in its own error
shape (see `fault_response`).
"""

import functools
import random
import threading
import time

from django.db import transaction
from django.db.models import F
from django.http import JsonResponse

from .models import FaultConfig, RequestSecond
from .pm.errors import MEDIA_TYPE, Problem, errors_body
from .routers import SANDBOX_DATABASE

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_lock = threading.Lock()
_generators: dict[str, tuple[tuple, random.Random]] = {}


def _draw(config: FaultConfig) -> float:
    version = (config.seed, config.updated_at)
    with _lock:
        known = _generators.get(config.system)
        if known is None or known[0] != version:
            known = (version, random.Random(config.seed))
            _generators[config.system] = known
        return known[1].random()


def fault_config(system: str) -> FaultConfig:
    config, _ = FaultConfig.objects.get_or_create(system=system)
    return config


def fault_response(system: str, status: int, code: str, message: str, **headers) -> JsonResponse:
    """An injected fault in the system's own error shape: LA's `{"error": {...}}`, PM's
    `{"errors": [...]}` (sandbox/pm/errors.py; real Actionstep's body for 429 and 503 is
    UNKNOWN, so it takes the emulator's one error shape)."""
    if system == FaultConfig.System.PM:
        problem = Problem(status, code, message)
        response = JsonResponse(errors_body([problem]), status=status, content_type=MEDIA_TYPE)
    else:
        response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


RATE_WINDOW_SECONDS = 60


def rate_limit_wait(config: FaultConfig) -> int:
    """Count this request against the system's limit; answers 0, or the seconds to wait
    when the last 60 seconds already hold `requests_per_minute` requests (counted in the
    sandbox's database, so every server process enforces one limit together)."""
    now = int(time.time())
    with transaction.atomic(using=SANDBOX_DATABASE):
        window = RequestSecond.objects.select_for_update().filter(
            system=config.system, second__gt=now - RATE_WINDOW_SECONDS
        )
        counts = dict(window.values_list("second", "count"))
        if sum(counts.values()) >= config.requests_per_minute:
            FaultConfig.objects.filter(pk=config.pk).update(
                requests_limited=F("requests_limited") + 1
            )
            oldest = min(counts) if counts else now
            return max(1, oldest + RATE_WINDOW_SECONDS - now)
        updated = RequestSecond.objects.filter(system=config.system, second=now).update(
            count=F("count") + 1
        )
        if not updated:
            RequestSecond.objects.create(system=config.system, second=now, count=1)
        RequestSecond.objects.filter(
            system=config.system, second__lt=now - 10 * RATE_WINDOW_SECONDS
        ).delete()
    return 0


def requests_per_minute_peak(system: str) -> int:
    """The most API requests the system answered in any 60 seconds, as far as kept."""
    counts = dict(RequestSecond.objects.filter(system=system).values_list("second", "count"))
    return max(
        (
            sum(counts.get(second, 0) for second in range(start, start + RATE_WINDOW_SECONDS))
            for start in counts
        ),
        default=0,
    )


def with_faults(system: str):
    """Decorate an emulator view so it meets the faults configured for `system`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            config = FaultConfig.objects.filter(system=system).first()
            if config is None:
                return view(request, *args, **kwargs)
            if config.requests_per_minute and "/oauth/" not in request.path:
                wait = rate_limit_wait(config)
                if wait:
                    return fault_response(
                        system,
                        429,
                        "rate_limited",
                        f"More than {config.requests_per_minute} requests a minute.",
                        **{"Retry-After": str(wait)},
                    )
            if config.latency_ms:
                time.sleep(config.latency_ms / 1000)
            roll = _draw(config)
            threshold = config.error_rate
            if roll < threshold:
                return fault_response(
                    system, 503, "unavailable", "Injected fault: service unavailable."
                )
            threshold += config.rate_limit_rate
            if roll < threshold:
                return fault_response(
                    system,
                    429,
                    "rate_limited",
                    "Injected fault: too many requests.",
                    **{"Retry-After": str(config.retry_after_seconds)},
                )
            threshold += config.hang_rate
            if roll < threshold:
                time.sleep(config.hang_seconds)
                return fault_response(system, 504, "timeout", "Injected fault: request hung.")
            response = view(request, *args, **kwargs)
            threshold += config.drop_rate
            if request.method in WRITE_METHODS and roll < threshold and response.status_code < 400:
                time.sleep(config.hang_seconds)
                return fault_response(
                    system,
                    504,
                    "dropped",
                    "Injected fault: the write was committed, the response lost.",
                )
            return response

        return wrapped

    return decorate
