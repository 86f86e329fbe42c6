# The two commands: `make run` (the demo on SQLite) and `make test` (the whole suite).
# Needs only Python 3.12+ on the machine; scripts/find-python finds one (or says what is missing).

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL for the test suite; the suite creates and drops test_<name> beside it.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
DEMO_ENV := DEBUG=true DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3

.PHONY: run test test-postgres test-sqlite migrations-check key clean bench bench-stop

$(VENV)/.created:
	@python=$$(scripts/find-python) || exit 1; \
	echo "Using $$python ($$($$python --version))"; \
	$$python -m venv $(VENV) || { echo "error: could not create $(VENV) (is the venv module installed? on Debian: apt install python3-venv)"; exit 1; }
	@$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.run-deps: requirements.txt $(VENV)/.created
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.created
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(DEMO_ENV) $(PY) manage.py migrate --verbosity 0
	$(DEMO_ENV) $(PY) manage.py upgrade_agent_tables --verbosity 0
	$(DEMO_ENV) $(PY) manage.py load_demo
	@echo ""
	@echo "  WhatsApp CRM is starting on http://$(HOST):$(PORT)/"
	@echo "  Log in as the seller: agent@example.com / agent-demo-password"
	@echo "  Log in as the admin:  admin@example.com / admin-demo-password  (http://$(HOST):$(PORT)/admin/)"
	@echo ""
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite on PostgreSQL (when reachable; required when REQUIRE_POSTGRES=1) and on SQLite,
# with line coverage over both runs.
test: $(VENV)/.dev-deps migrations-check
	@rm -f .coverage .coverage.*
	@if $(PY) scripts/postgres-reachable "$(TEST_DATABASE_URL)"; then \
		$(MAKE) --no-print-directory test-postgres || exit 1; \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "error: PostgreSQL is required but not reachable at $(TEST_DATABASE_URL)"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): running on SQLite only."; \
	fi
	$(MAKE) --no-print-directory test-sqlite
	@$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

test-postgres: $(VENV)/.dev-deps
	@echo "== Test suite on PostgreSQL ($(TEST_DATABASE_URL))"
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/coverage run -m pytest $(PYTEST_ARGS)

test-sqlite: $(VENV)/.dev-deps
	@echo "== Test suite on SQLite"
	DATABASE_URL=sqlite:///$(CURDIR)/.test-db.sqlite3 $(BIN)/coverage run -m pytest $(PYTEST_ARGS)

migrations-check: $(VENV)/.dev-deps
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# The scale benchmarks (bench/README.md) on a private PostgreSQL server configured as
# docs/operations.md prescribes (started here, left running for the next run; `make bench-stop`).
# The 10,000-agent database is built on the first run and reused. BENCH_ARGS="--agents 1000" for less.
bench: $(VENV)/.dev-deps
	@server=$$(bench/postgres start) && $(PY) bench/run.py --server "$$server" $(BENCH_ARGS)

bench-stop:
	bench/postgres stop

# A new key for FIELD_ENCRYPTION_KEYS.
key: $(VENV)/.run-deps
	@$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

clean:
	rm -rf $(VENV) .coverage .coverage.* staticfiles .test-media
