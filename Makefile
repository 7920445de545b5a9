# Whereabouts: `make run` serves the app with the seed data; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEV_ENV := DEBUG=1 DATABASE_URL=$${DATABASE_URL:-sqlite:///db.sqlite3} STAFF_2FA_REQUIRED=$${STAFF_2FA_REQUIRED:-0}

.PHONY: run test lint format migrations-check install bench messages translations-check outline cluster cluster-stop cluster-test worker

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

run: $(INSTALLED)
	$(DEV_ENV) $(PY) manage.py migrate --verbosity 0
	$(DEV_ENV) $(PY) manage.py load_seed
	$(DEV_ENV) $(PY) manage.py create_demo_staff
	@# The archiving worker beside the server, so that a source saved with a URL is captured; it stops with it.
	$(DEV_ENV) $(PY) manage.py archive_worker --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# The archiving worker alone (captures of sources' pages, link checks): for a second terminal, or a server.
worker: $(INSTALLED)
	$(DEV_ENV) $(PY) manage.py archive_worker

# The whole suite on SQLite with each process's own cache, then on PostgreSQL when DATABASE_URL points at one,
# with the shared cache when CACHE_URL names a Redis (CI does), spread over TEST_WORKERS processes (pytest-xdist).
TEST_WORKERS ?= 2
test: $(INSTALLED)
	DATABASE_URL=sqlite:///db.sqlite3 CACHE_URL= $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	@case "$$DATABASE_URL" in \
	  postgres*) $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) ;; \
	  *) echo "PostgreSQL run skipped: set DATABASE_URL=postgres://USER@HOST:PORT/NAME to run the suite on PostgreSQL too." ;; \
	esac

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(VENV)/bin/mypy

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(INSTALLED)
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# A whole site on loopback (deploy/cluster.py; root, Debian's PostgreSQL, nginx and Redis): nginx on
# http://127.0.0.1:8100 in front of two app servers, a PostgreSQL primary and its streaming replica,
# Redis and an S3-compatible store. `make cluster-test` brings up a fresh one, runs tests/cluster/
# against it and takes it down.
cluster: $(INSTALLED)
	$(PY) deploy/cluster.py up

cluster-stop: $(INSTALLED)
	$(PY) deploy/cluster.py down

cluster-test: $(INSTALLED)
	$(PY) deploy/cluster.py up --fresh
	WHEREABOUTS_CLUSTER=1 $(PY) -m pytest -p no:cacheprovider -q tests/cluster; \
	  status=$$?; $(PY) deploy/cluster.py destroy; exit $$status

# The benchmark report (docs/bench-<N>.md): PostgreSQL, gunicorn and wrk (apt-get install wrk).
PERSONS ?= 100000
bench: $(INSTALLED)
	@command -v wrk >/dev/null || { echo "Installing wrk (Debian package)"; apt-get install -y -qq wrk; }
	$(PY) scripts/bench.py --persons $(PERSONS)

# After changing any text a person reads: gather the strings into the catalogues (locale/*/LC_MESSAGES/django.po),
# translate the new entries there, then run this again to compile them (django.mo, committed: `make run` needs
# no gettext tools). Needs GNU gettext (Debian package gettext).
MESSAGES_IGNORE := --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --ignore 'scripts/*' --ignore 'node_modules/*'
messages: $(INSTALLED)
	@command -v xgettext >/dev/null || { echo "Installing gettext (Debian package)"; apt-get install -y -qq gettext; }
	$(DEV_ENV) $(PY) manage.py makemessages -l ko -l ja --add-location file --no-obsolete $(MESSAGES_IGNORE)
	$(DEV_ENV) $(PY) manage.py compilemessages -l ko -l ja --ignore '.venv/*'

# Every entry translated, nothing fuzzy, the compiled catalogues current, no template text outside translation tags.
translations-check: $(INSTALLED)
	$(DEV_ENV) $(PY) scripts/check_translations.py

# The map's outline (public/data/korea_outline.json, committed: `make run` and CI need neither npm nor the
# network): Natural Earth's country boundaries from the npm package world-atlas, at the version package-lock.json pins.
outline: $(INSTALLED)
	npm ci --no-audit --no-fund
	$(PY) scripts/make_outline.py
