# Civic Relay — the two commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := PATH="$(CURDIR)/$(BIN):$$PATH" DJANGO_SETTINGS_MODULE=bsp.settings.dev
TEST   := DJANGO_SETTINGS_MODULE=bsp.settings.test
# Migrations run as the schema owner when one is given (see README, "Database roles").
MIGRATE_DB = $${DATABASE_OWNER_URL:-$${DATABASE_URL:-}}

.PHONY: demo test lint types check pytest bench install install-dev totp browsers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## 1. The whole platform with a seeded demo agency, no external service needed.
demo: install
	@mkdir -p var
	$(DEMO) DATABASE_URL=$(MIGRATE_DB) $(BIN)/python manage.py migrate --noinput -v0
	$(DEMO) $(BIN)/python manage.py seed_demo
	$(DEMO) $(BIN)/honcho -f Procfile.demo start

totp: install
	@$(DEMO) $(BIN)/python manage.py demo_totp $(EMAIL)

## 2. The whole test suite (lint, types, checks, tests) against real PostgreSQL and Redis.
test: install-dev browsers lint types check pytest

# Ruff, then the import contracts ([tool.importlinter] in pyproject.toml: the layers).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy with django-stubs over the whole codebase ([tool.mypy] in pyproject.toml). The plugin
# loads the test settings but never connects to a database.
types: install-dev
	$(BIN)/mypy

check: install-dev
	DJANGO_SETTINGS_MODULE=bsp.settings.production DEBUG=0 \
	  SECRET_KEY=check-deploy-only-0123456789abcdefghijklmnopqrstuvwxyz \
	  FIELD_ENCRYPTION_KEY=dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0= \
	  WHATSAPP_APP_SECRET=check-deploy-only DATABASE_URL=sqlite:///:memory: \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(TEST) DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST) DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

pytest: install-dev
	$(BIN)/pytest -n 2 --dist loadfile --cov --cov-report=term:skip-covered

# Headless Chromium for the browser tests: Debian's package (Playwright drives it).
browsers:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

bench: install-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var .pytest_cache .mypy_cache .coverage htmlcov staticfiles
