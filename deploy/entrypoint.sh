#!/bin/sh
# The hub's production processes, one sub-command each. The Dockerfile, compose.yaml, the
# systemd units in deploy/systemd/ and CI (tests/test_deploy.py) all start the hub through
# this file, so what CI runs is what a deployment runs (docs/deployment.md).
#
#   web            gunicorn serving the app (deploy/gunicorn.conf.py; GUNICORN_* settings)
#   worker         the task cluster, `manage.py run_worker`: run_cluster, plus its metrics
#                  on METRICS_PORT when that and METRICS_TOKEN are set
#   migrate        apply database migrations (once per deploy, before web and worker start)
#   collectstatic  gather static files into DJANGO_STATIC_ROOT (at image build or deploy)
#   check          Django's deploy checks: refuses missing, published or weak secrets
#
# HUB_PYTHON names the interpreter (default: `python` on PATH, the image's venv); the
# settings default to config.settings.production.
set -eu

cd "$(dirname "$0")/.."
PYTHON="${HUB_PYTHON:-python}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"

# Prometheus counts of a role's processes go to one directory of its own, emptied at
# start: counts from a process of an earlier start would be added to this one's.
metrics_directory() {
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/hub-metrics-$1}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    web)
        metrics_directory web
        exec "$PYTHON" -m gunicorn --config deploy/gunicorn.conf.py "$@" config.wsgi:application
        ;;
    worker)
        metrics_directory worker
        exec "$PYTHON" manage.py run_worker "$@"
        ;;
    migrate)
        exec "$PYTHON" manage.py migrate --noinput "$@"
        ;;
    collectstatic)
        exec "$PYTHON" manage.py collectstatic --noinput "$@"
        ;;
    check)
        exec "$PYTHON" manage.py check --deploy --fail-level WARNING "$@"
        ;;
    *)
        echo "usage: $0 web|worker|migrate|collectstatic|check [arguments]" >&2
        exit 64
        ;;
esac
