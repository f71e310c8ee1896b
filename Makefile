# `make run` starts the product on SQLite with the sandbox; `make test` runs the suite.
# Installs come from the lockfiles, each package checked against its hash: requirements.txt
# (what the hub runs on) for `make run`, requirements-dev.txt (that and the test tools) for
# `make test`. `make lock` regenerates both from pyproject.toml.
VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# One resolution for every Python the project supports (pyproject's requires-python).
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS)

.PHONY: run test lint format install install-dev lock migrate superuser clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(RUNTIME): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(RUNTIME)

install-dev: $(DEV)

# After changing dependencies in pyproject.toml; `make lock LOCK_ARGS=--upgrade` moves
# every pin to the newest release allowed. Commit both files.
lock: $(DEV)
	$(LOCK) -o requirements.txt
	$(LOCK) --extra dev -c requirements.txt -o requirements-dev.txt

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database sandbox

superuser: install
	$(PY) manage.py ensure_admin

# Where the hub is served: the sandbox's addresses (and the OAuth redirect) follow it.
# `make run RUN_ARGS=--onboarding` leaves the sync paused for onboarding (README).
run: export HUB_BASE_URL ?= http://$(HOST):$(PORT)
run: migrate superuser
	$(PY) manage.py run_hub --host $(HOST) --port $(PORT) $(RUN_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* sandbox.sqlite3*
