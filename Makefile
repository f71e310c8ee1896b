# `make run` starts the product on SQLite with the sandbox; `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install migrate superuser clean

$(PY):
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database sandbox

superuser: install
	$(PY) manage.py ensure_admin

# Where the hub is served: the sandbox's addresses (and the OAuth redirect) follow it.
run: export HUB_BASE_URL ?= http://$(HOST):$(PORT)
run: migrate superuser
	$(PY) manage.py run_hub --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* sandbox.sqlite3*
