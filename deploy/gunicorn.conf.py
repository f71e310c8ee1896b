"""gunicorn's settings for the hub's web role (`deploy/entrypoint.sh web`).

Every value is read from the environment; README's Configuration table lists them. The
hub's requests are short and mostly wait on the database or on PM and LA, so each worker
process runs threads: GUNICORN_WORKERS times GUNICORN_THREADS requests at once.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
# A request still running after this many seconds is killed and its worker restarted.
# Longer than SYNC_HTTP_TIMEOUT, so a page waiting on PM or LA gets their answer first.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), bounding any slow leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# gunicorn's control socket (gunicornc) is not used: two instances on a host would share
# its path, and the image's home folder is read-only.
control_socket_disable = True
# Heartbeat files in memory, not on a container's overlay disk.
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn's own advice for containers
    worker_tmp_dir = "/dev/shm"  # noqa: S108

accesslog = "-"
errorlog = "-"
# gunicorn's own lines (start, workers, access) in the format of the hub's (LOG_FORMAT).
_format = os.environ.get("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": _format,
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
    "root": {"level": "INFO", "handlers": []},
}


def child_exit(server, worker):
    """A worker that exits leaves its Prometheus counts in the role's directory; this
    marks its live gauges as gone (deploy/entrypoint.sh sets the directory)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
