# Civic Relay — the two commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := PATH="$(CURDIR)/$(BIN):$$PATH" DJANGO_SETTINGS_MODULE=bsp.settings.dev EVENT_DISPATCH_SECONDS=2
TEST   := DJANGO_SETTINGS_MODULE=bsp.settings.test
# Migrations run as the schema owner when one is given (see README, "Database roles").
MIGRATE_DB = $${DATABASE_OWNER_URL:-$${DATABASE_URL:-}}

.PHONY: demo test lint types check pytest bench install install-dev totp browsers clean vendor-static uswds

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

# Headless Chromium for the browser tests: Debian's package (Playwright drives it); and the
# DejaVu fonts the PDF/A export transcripts embed (records.exports).
browsers:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null; }

# The front end's pinned copies of USWDS and htmx (frontend/static/uswds/, .../vendor/htmx/),
# refreshed from their npm packages: `make vendor-static USWDS_VERSION=3.9.0`. Only the
# compiled files the pages use, and the fonts and images the stylesheet refers to.
USWDS_VERSION ?= 3.9.0
HTMX_VERSION  ?= 2.0.11
USWDS_DIR := frontend/static/uswds
HTMX_DIR  := frontend/static/vendor/htmx

vendor-static:
	@set -eu; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cd "$$tmp" && npm pack --silent --json @uswds/uswds@$(USWDS_VERSION) htmx.org@$(HTMX_VERSION) > packs.json; \
	mkdir u h && tar xzf uswds-uswds-$(USWDS_VERSION).tgz -C u && tar xzf htmx.org-$(HTMX_VERSION).tgz -C h; \
	cd "$(CURDIR)"; \
	rm -rf $(USWDS_DIR)/css $(USWDS_DIR)/js $(USWDS_DIR)/fonts $(USWDS_DIR)/img; \
	mkdir -p $(USWDS_DIR)/css $(USWDS_DIR)/js $(HTMX_DIR); \
	cp "$$tmp"/u/package/dist/css/uswds.min.css* $(USWDS_DIR)/css/; \
	cp "$$tmp"/u/package/dist/js/uswds.min.js* "$$tmp"/u/package/dist/js/uswds-init.min.js* $(USWDS_DIR)/js/; \
	for ref in $$(grep -oE 'url\([^)]*\)' $(USWDS_DIR)/css/uswds.min.css | sed -nE 's/^url\(["'\'']?\.\.\/([^"'\'')]+).*/\1/p' | sort -u) \
	  img/us_flag_small.png img/icon-dot-gov.svg img/icon-https.svg img/sprite.svg; do \
	  mkdir -p $(USWDS_DIR)/$$(dirname $$ref); cp "$$tmp"/u/package/dist/$$ref $(USWDS_DIR)/$$ref; \
	done; \
	cp "$$tmp"/u/package/LICENSE.md $(USWDS_DIR)/LICENSE.md; \
	cp "$$tmp"/h/package/dist/htmx.min.js $(HTMX_DIR)/; cp "$$tmp"/h/package/LICENSE $(HTMX_DIR)/LICENSE; \
	$(PYTHON) -c 'import datetime, json, sys; packs = {p["name"]: p for p in json.load(open(sys.argv[1]))}; \
	  line = "%s %s\nintegrity %s\nfetched %s from the npm registry (make vendor-static)\n"; \
	  [open(path + "/VERSION", "w").write(line % (name, packs[name]["version"], packs[name]["integrity"], datetime.date.today())) \
	   for name, path in (("@uswds/uswds", sys.argv[2]), ("htmx.org", sys.argv[3]))]' \
	  "$$tmp"/packs.json $(USWDS_DIR) $(HTMX_DIR); \
	cat $(USWDS_DIR)/VERSION $(HTMX_DIR)/VERSION
uswds: vendor-static  # the same, by its other name

bench: install-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var .pytest_cache .mypy_cache .coverage htmlcov staticfiles
