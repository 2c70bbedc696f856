# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# Install, migrate, load data and serve the portal at http://$(HOST):$(PORT).
# Without DATABASE_URL/CELERY_BROKER_URL: SQLite and in-process tasks.
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py kle_ensure
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
	  echo "Starting a Celery worker and beat against $$CELERY_BROKER_URL"; \
	  trap 'kill 0' EXIT INT TERM; \
	  $(PY) -m celery -A config worker --loglevel=INFO & \
	  $(PY) -m celery -A config beat --loglevel=INFO & \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# Lint and the whole suite, against PostgreSQL and Redis when they answer.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test >/dev/null
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache
