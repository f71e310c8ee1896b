"""The deployment's entry point, run as a deployment runs it, and the files that must keep
calling it: the Dockerfile, compose.yaml and the systemd units (docs/deployment.md).

Docker can't run here; what it would run can. deploy/entrypoint.sh is the one place the
web, worker and migrate commands are written, and every other file must go through it.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
SUBCOMMANDS = {"web", "worker", "migrate", "collectstatic", "check"}
# Left out of the environment the hub's processes inherit from the test run.
HERMETIC_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "HUB_",
    "PM_",
    "LA_",
    "SANDBOX_",
    "Q_",
    "METRICS_",
    "GUNICORN_",
    "PROMETHEUS_",
    "LOG_",
    "SENTRY_",
)
METRICS_TOKEN = secrets.token_urlsafe(32)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment(tmp: Path) -> dict[str, str]:
    """Production settings with each required secret a fresh random value, on SQLite."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(HERMETIC_PREFIXES)
    }
    environment.update(
        HUB_PYTHON=sys.executable,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        HUB_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        PM_CLIENT_ID=f"hub-{secrets.token_hex(6)}",
        PM_CLIENT_SECRET=secrets.token_urlsafe(32),
        LA_API_TOKEN=secrets.token_urlsafe(32),
        LA_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        METRICS_TOKEN=METRICS_TOKEN,
        DATABASE_URL=f"sqlite:///{tmp / 'hub.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_ALLOWED_HOSTS="hub.example.org",
        TMPDIR=str(tmp),
    )
    return environment


def entrypoint(environment, *args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen, seconds: float = 60) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=seconds)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A hub deployed the way docs/deployment.md says: migrate, collectstatic, then the
    web role, all through deploy/entrypoint.sh, under production settings."""
    tmp = tmp_path_factory.mktemp("deployed")
    environment = production_environment(tmp)
    for step in ("migrate", "collectstatic"):
        result = entrypoint(environment, step)
        assert result.returncode == 0, f"{step}: {result.stdout}{result.stderr}"
    port = free_port()
    log = (tmp / "web.log").open("w")
    web = subprocess.Popen(
        [str(ENTRYPOINT), "web"],
        env={**environment, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", web)
        yield {"base": base, "environment": environment, "tmp": tmp, "log": tmp / "web.log"}
    finally:
        code = stop(web)
        log.close()
        assert code == 0, (tmp / "web.log").read_text()[-3000:]


@pytest.mark.processes
@pytest.mark.deploy
def test_the_web_role_answers_healthz_under_production_settings(deployed):
    status, headers, body = get(f"{deployed['base']}/healthz")

    assert (status, body) == (200, b'{"status": "ok"}')
    assert headers["Server"] == "gunicorn"


@pytest.mark.processes
@pytest.mark.deploy
def test_migrate_made_the_database_the_web_role_reads(deployed):
    status, _, body = get(f"{deployed['base']}/readyz")

    assert status == 503  # PM is not connected and LA is not there: this hub is alone
    assert b'"database": {"ok": true' in body
    assert b'"broker": {"ok": true' in body


@pytest.mark.processes
@pytest.mark.deploy
def test_static_files_are_served_with_their_hashed_names_for_ever(deployed):
    base, forwarded = deployed["base"], {"X-Forwarded-Proto": "https", "Host": "hub.example.org"}
    manifest = (deployed["tmp"] / "static" / "staticfiles.json").read_text()
    hashed = re.search(r'"admin/css/base\.css": "([^"]+)"', manifest).group(1)

    status, headers, body = get(f"{base}/static/{hashed}", **forwarded)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert b"body" in body

    status, _, _ = get(
        f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", **forwarded
    )
    assert status == 200


@pytest.mark.processes
@pytest.mark.deploy
def test_pages_go_to_https_and_carry_their_security_headers(deployed):
    base = deployed["base"]
    request = urllib.request.Request(f"{base}/admin/login/", headers={"Host": "hub.example.org"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=10)
        raise AssertionError("no redirect to HTTPS")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 301
        assert redirect.headers["Location"] == "https://hub.example.org/admin/login/"

    status, headers, _ = get(
        f"{base}/admin/login/", **{"X-Forwarded-Proto": "https", "Host": "hub.example.org"}
    )
    assert status == 200
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" in headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.processes
@pytest.mark.deploy
def test_the_web_role_logs_one_json_object_a_line(deployed):
    get(f"{deployed['base']}/healthz")

    lines = [line for line in deployed["log"].read_text().splitlines() if line.strip()]
    assert lines and all(line.startswith("{") and line.endswith("}") for line in lines), lines


@pytest.mark.processes
@pytest.mark.deploy
def test_the_web_role_serves_metrics_to_the_token(deployed):
    base = deployed["base"]

    assert get(f"{base}/metrics")[0] == 401
    status, _, body = get(f"{base}/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert status == 200
    assert b'hub_links{record_type="contact",state="synced"} 0.0' in body
    assert b"hub_sync_attempts_total" in body


@pytest.mark.processes
@pytest.mark.deploy
def test_the_deploy_check_passes_with_the_random_secrets(deployed):
    result = entrypoint(deployed["environment"], "check")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.processes
@pytest.mark.deploy
def test_the_worker_role_runs_the_cluster_serves_its_metrics_and_stops_on_sigterm(deployed):
    port = free_port()
    log = (deployed["tmp"] / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(ENTRYPOINT), "worker"],
        env={**deployed["environment"], "METRICS_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/metrics", worker)
        status, _, body = get(
            f"http://127.0.0.1:{port}/metrics", Authorization=f"Bearer {METRICS_TOKEN}"
        )
        assert status == 200
        assert b"hub_request_budget_wait_seconds_total" in body
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 401
        time.sleep(2)  # let qcluster start its workers before it is told to stop
    finally:
        code = stop(worker, seconds=150)
        log.close()
    output = (deployed["tmp"] / "worker.log").read_text()
    assert code == 0, output[-3000:]
    assert "The task cluster has stopped." in output


def test_the_entrypoint_refuses_an_unknown_role():
    result = subprocess.run([str(ENTRYPOINT), "serve"], capture_output=True, text=True)

    assert result.returncode == 64
    assert "web|worker|migrate" in result.stderr


def entrypoint_subcommands() -> set[str]:
    """The sub-commands deploy/entrypoint.sh's `case` answers."""
    text = ENTRYPOINT.read_text()
    return set(re.findall(r"^\s{4}([a-z]+)\)$", text, flags=re.MULTILINE))


def test_the_entrypoint_has_each_role():
    assert entrypoint_subcommands() == SUBCOMMANDS
    assert os.access(ENTRYPOINT, os.X_OK)


# The files Docker and systemd read -------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_dockerfile_installs_the_runtime_lockfile_and_starts_through_the_entrypoint():
    instructions = dockerfile_instructions()
    runs = " ".join(argument for name, argument in instructions if name == "RUN")
    values = dict(instructions)

    assert "COPY requirements.txt" in " ".join(f"{n} {a}" for n, a in instructions)
    assert "--require-hashes -r /tmp/requirements.txt" in runs
    assert "requirements-dev.txt" not in (ROOT / "Dockerfile").read_text()
    assert "deploy/entrypoint.sh collectstatic" in runs
    assert values["ENTRYPOINT"] == '["deploy/entrypoint.sh"]'
    assert values["CMD"] == '["web"]'
    assert values["USER"].split(":")[0] not in ("root", "0")


def test_the_dockerfile_leaves_no_secret_in_the_image():
    instructions = dockerfile_instructions()
    environment = " ".join(argument for name, argument in instructions if name in ("ENV", "ARG"))

    for secret in ("SECRET_KEY", "HUB_ENCRYPTION_KEY", "CLIENT_SECRET", "LA_API_TOKEN"):
        assert secret not in environment


def test_compose_runs_every_role_through_the_entrypoint_on_postgresql_and_redis():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]

    assert services["migrate"]["command"] == ["migrate"]
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for role in ("migrate", "web", "worker"):
        service = services[role]
        assert service["build"] == "."  # the Dockerfile: its ENTRYPOINT is the entry point
        assert set(service["command"]) <= SUBCOMMANDS
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://")
    for role in ("web", "worker"):
        assert services[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["restart"] == "no"
    assert {"db", "redis"} <= set(services)


def test_compose_requires_every_production_secret():
    compose = (ROOT / "compose.yaml").read_text()

    for secret in (
        "DJANGO_SECRET_KEY",
        "HUB_ENCRYPTION_KEY",
        "PM_CLIENT_ID",
        "PM_CLIENT_SECRET",
        "LA_API_TOKEN",
        "LA_WEBHOOK_SECRET",
    ):
        assert f"${{{secret}:?" in compose, secret


def test_compose_probes_the_web_role_for_life_not_readiness():
    web = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]

    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("la-pm-hub-web.service", "web"),
        ("la-pm-hub-worker@.service", "worker"),
        ("la-pm-hub-migrate.service", "migrate"),
    ],
)
def test_each_systemd_unit_starts_its_role_through_the_entrypoint(name, role):
    values = unit(name)

    assert values["ExecStart"] == [f"/srv/la-pm-hub/deploy/entrypoint.sh {role}"]
    assert values["User"] == ["hub"]
    assert values["EnvironmentFile"] == ["/etc/la-pm-hub/hub.env"]


def test_the_worker_unit_waits_out_a_running_task_before_it_kills():
    from django.conf import settings

    values = unit("la-pm-hub-worker@.service")

    assert int(values["TimeoutStopSec"][0]) > settings.Q_CLUSTER["timeout"] + 10
    assert values["KillMode"] == ["mixed"]


# Dependencies and their lockfiles --------------------------------------------------------


def locked(name: str) -> dict[str, str]:
    """{package: version} pinned in a lockfile."""
    text = (ROOT / name).read_text()
    return {
        match.group(1).lower(): match.group(2)
        for match in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", text, flags=re.MULTILINE)
    }


def normalised(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_runtime_lockfile_holds_every_runtime_dependency_and_no_test_tool():
    runtime = locked("requirements.txt")
    dev_tools = {normalised(r) for r in project()["optional-dependencies"]["dev"]}

    for requirement in project()["dependencies"]:
        assert normalised(requirement) in runtime, requirement
    # drf-spectacular reads YAML and validates with jsonschema when it runs, too.
    assert (dev_tools - {"pyyaml", "jsonschema"}) & set(runtime) == set()
    for tool in ("pytest", "playwright", "schemathesis", "ruff", "responses", "hypothesis"):
        assert tool not in runtime


def test_the_dev_lockfile_pins_the_runtime_packages_at_the_same_versions():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")

    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"pytest", "playwright", "schemathesis", "uv"} <= set(dev)


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_locked_package_carries_its_hashes(name):
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
    pinned = [entry for entry in entries if "==" in entry.split("\n", 1)[0]]

    assert pinned
    assert [entry.split()[0] for entry in pinned if "--hash=sha256:" not in entry] == []


def make_dry_run(target: str, tmp_path: Path) -> str:
    """What `make <target>` would run on a fresh clone (a venv that does not exist)."""
    result = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_installs_only_the_runtime_lockfile(tmp_path):
    commands = make_dry_run("run", tmp_path)

    assert "--require-hashes -r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands
    assert "[dev]" not in commands


def test_make_test_installs_the_dev_lockfile(tmp_path):
    commands = make_dry_run("test", tmp_path)

    assert "--require-hashes -r requirements-dev.txt" in commands


def test_python_3_11_to_3_13_are_supported_and_ruff_targets_the_oldest():
    metadata = project()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert metadata["requires-python"] == ">=3.11,<3.14"
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in metadata["classifiers"]
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
    assert metadata["license"] == "Apache-2.0"
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
