# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format clean static browsers

# The citizen portal's front end: the Danish design system (npm `dkfds`) is
# copied from node_modules into static/vendor/ and served by whitenoise — no
# CDN, and node_modules is never committed. `make static` does it.
DKFDS := node_modules/dkfds/dist
VENDOR := static/vendor/dkfds
OIDC_MOCK_PORT ?= 9400
SIMULATORS_PORT ?= 9401

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/.built: node_modules/.installed
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/css $(VENDOR)/js $(VENDOR)/fonts/IBMPlexSans/complete/eot $(VENDOR)/fonts/IBMPlexSans/complete/ttf
	cp $(DKFDS)/css/dkfds-borgerdk.min.css $(DKFDS)/css/dkfds-borgerdk.min.css.map $(VENDOR)/css/
	cp $(DKFDS)/js/dkfds.min.js $(DKFDS)/js/dkfds.min.js.map $(VENDOR)/js/
	cp -r $(DKFDS)/img $(VENDOR)/img
	cp -r $(DKFDS)/fonts/IBMPlexSans/complete/woff $(DKFDS)/fonts/IBMPlexSans/complete/woff2 $(VENDOR)/fonts/IBMPlexSans/complete/
	cp $(DKFDS)/fonts/IBMPlexSans/complete/eot/IBMPlexSans-Regular.eot $(VENDOR)/fonts/IBMPlexSans/complete/eot/
	cp $(DKFDS)/fonts/IBMPlexSans/complete/ttf/IBMPlexSans-Regular.ttf $(VENDOR)/fonts/IBMPlexSans/complete/ttf/
	cp $(DKFDS)/LICENSE.md $(VENDOR)/
	@touch $@

static: $(VENDOR)/.built

# What the browser tests need: Debian's Chromium (never `playwright install`).
browsers:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# Install, migrate, load data and serve the portal at http://$(HOST):$(PORT)
# (scripts/run, then scripts/serve; Ctrl-C stops every server it started).
# Without DATABASE_URL/CELERY_BROKER_URL: SQLite and in-process tasks.
# The stand-ins (simulators/) serve on 127.0.0.1 for as long as the portal runs: the
# simulated source systems the demo's feeds are polled from, at $(SIMULATORS_PORT),
# and a mock MitID broker (oidc-provider-mock) for the demo citizens, at $(OIDC_MOCK_PORT).
run: install static
	@PY=$(PY) HOST=$(HOST) PORT=$(PORT) OIDC_MOCK_PORT=$(OIDC_MOCK_PORT) \
	  SIMULATORS_PORT=$(SIMULATORS_PORT) bash scripts/run

# Lint, the import contracts (pyproject.toml: the layers, no product module importing
# the stand-ins) and the whole suite, against PostgreSQL and Redis when they answer.
test: install static browsers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run >/dev/null
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache node_modules static/vendor
