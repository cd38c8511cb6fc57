# Two commands for a new machine:  make run   (install, migrate, seed the demo, serve)  and  make test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export FLASK_APP := wsgi.py
# An unset APP_ENV means production (config.py). Each target says which configuration it runs: `make run` and its
# steps the development one (random secrets generated once under instance/), tests and tools the testing one.
DEV_TARGETS := run translations migrate seed serve
TEST_TARGETS := test lint e2e bench bench-scale bench-storm
$(DEV_TARGETS): export APP_ENV ?= development
$(TEST_TARGETS): export APP_ENV = testing
# The dependency set is locked: every install uses constraints.txt (regenerate with scripts/lock.py).
CONSTRAINTS := constraints.txt

.PHONY: run test lint install install-dev translations migrate seed serve bench bench-scale bench-storm e2e clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: install
	$(PY) scripts/i18n.py compile

migrate: install
	@mkdir -p instance
	$(PY) -m flask db upgrade

seed: migrate
	$(PY) -m flask seed-demo --if-empty

serve:
	$(PY) -m flask run --host 127.0.0.1 --port $(PORT)

run: translations seed serve

test: install-dev translations
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: install-dev
	$(PY) -m ruff check .

e2e: install-dev translations
	$(PY) -m pytest tests/e2e

# Not part of `make test`: needs wrk (apt-get install -y wrk), takes a few minutes, results in bench/results/.
bench: install-dev translations
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_vietqr.py
	$(PY) bench/bench_qr_endpoint.py

# Not part of `make test` either: the same pages on the scale data, in a PostgreSQL database already loaded by
# `flask seed-scale` (about 8 minutes, bench/README.md). BENCH_DATABASE_URL is the owner's URL; the servers run as
# the application role gialam_app. About 15 minutes on a busy 2-vCPU machine; writes an API key (and a district
# admin, once) to that database.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/scale_big
bench-scale: install-dev translations
	$(PY) bench/bench_pages.py --database-url $(BENCH_DATABASE_URL)

# The 1,000-checkout storm against gunicorn on PostgreSQL (#17, bench/README.md): EMPTIES the database named by
# STORM_DATABASE_URL (the owner's URL; --fresh drops its public schema), migrates it and writes a small catalogue.
STORM_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/storm
bench-storm: install-dev translations
	$(PY) bench/bench_storm.py --database-url $(STORM_DATABASE_URL) --fresh

clean:
	rm -rf $(VENV) instance/*.sqlite* .pytest_cache
