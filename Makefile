# Guichet Famille — the README's two commands: `make run` and `make test`.
# Both create a project-local virtualenv (.venv) on first use and reuse it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install worker beat bench lint clean-demo screenshots

# Re-installed when dependencies change or a top-level package appears (the
# editable install maps packages by name).
$(VENV)/.installed: pyproject.toml $(wildcard platform/*/__init__.py */__init__.py)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "Impossible de créer l'environnement Python : installez python3-venv (apt-get install python3-venv)."; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## Demo: embedded PostgreSQL when DATABASE_URL is unset, eager Celery without a broker.
run: install
	$(PY) manage.py rundemo

## The whole test suite (real PostgreSQL; Redis and Chromium tests need REDIS_URL and /usr/bin/chromium).
test: install node_modules/axe-core
	$(PY) -m pytest $(PYTEST_ARGS)

# axe-core for the accessibility checks of the browser tests (skipped without npm).
node_modules/axe-core: package.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent && touch $@; \
	else echo "npm absent : les contrôles d'accessibilité axe-core seront ignorés."; fi

## Screenshots of the family pages (390 px) and the staff home, in test-artifacts/screenshots/
## (starts the demo on a free port; SCREENSHOTS_URL=http://127.0.0.1:8000 to use a running one).
screenshots: install
	$(PY) tests/browser/screenshots.py $(if $(SCREENSHOTS_URL),--url $(SCREENSHOTS_URL))

worker: install
	$(VENV)/bin/celery -A portal worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A portal beat --loglevel=INFO

bench: install
	$(PY) bench/routing.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean-demo:
	rm -rf .pgdata media
