# The two commands: `make run` (the demo on SQLite) and `make test` (the whole suite).
# Needs only Python 3.12+ on the machine; scripts/find-python finds one (or says what is missing).

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL for the test suite; the suite creates and drops test_<name> beside it.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
# The demo's fake of Meta's Graph API (manage.py run_fake_graph), beside the app.
FAKE_GRAPH_PORT ?= $(shell echo $$(($(PORT) + 10)))
# The demo runs tasks in the web process, points the app at the fake Graph API, turns the customer sandbox on,
# and gives up on a failing Graph call within seconds (3 attempts, 3 s timeouts) so that failures show quickly.
DEMO_ENV := DEBUG=true DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 TASKS_BACKEND=immediate \
	WHATSAPP_SANDBOX=true WHATSAPP_GRAPH_URL=http://127.0.0.1:$(FAKE_GRAPH_PORT) PUBLIC_BASE_URL=http://$(HOST):$(PORT) \
	WHATSAPP_GRAPH_MAX_ATTEMPTS=3 WHATSAPP_GRAPH_READ_TIMEOUT=3 WHATSAPP_GRAPH_BACKOFF_MAX=2

.PHONY: run worker test test-postgres test-sqlite lint migrations-check bench bench-webhook bench-dashboard bench-queue bench-scale bench-spread bench-slow-clients bench-pgbouncer bench-reading bench-live bench-stop key clean

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
	@$(DEMO_ENV) $(PY) manage.py run_fake_graph --port $(FAKE_GRAPH_PORT) \
		--webhook-url http://$(HOST):$(PORT)/whatsapp/webhook/ & fake=$$!; \
	trap 'kill $$fake 2>/dev/null' EXIT INT TERM; \
	scripts/wait-for-port $(FAKE_GRAPH_PORT) $$fake || exit 1; \
	$(DEMO_ENV) $(PY) manage.py run_periodic_tasks --once > /dev/null 2>&1; \
	echo ""; \
	echo "  WhatsApp CRM is starting on http://$(HOST):$(PORT)/"; \
	echo "  Log in as the seller: agent@example.com / agent-demo-password"; \
	echo "  Log in as the admin:  admin@example.com / admin-demo-password  (http://$(HOST):$(PORT)/admin/)"; \
	echo "  Play a customer:      http://$(HOST):$(PORT)/sandbox/  (logged in; no Meta account needed:"; \
	echo "                        the fake Graph API on port $(FAKE_GRAPH_PORT) stands in for Meta)"; \
	echo ""; \
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The background worker (sending, read receipts, template sync) for an app run with
# TASKS_BACKEND=database, as in production: takes DATABASE_URL and the other settings from the environment.
worker: $(VENV)/.run-deps
	$(PY) manage.py db_worker --queue-name '*' --interval 1

# The whole suite on PostgreSQL (when reachable; required when REQUIRE_POSTGRES=1) and on SQLite,
# with line coverage over both runs.
test: $(VENV)/.dev-deps lint migrations-check
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

# ruff (configured in pyproject.toml): lint and format check, before any test runs.
lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: $(VENV)/.dev-deps
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# Benchmarks (not tests): the figures of the notes, on PostgreSQL, each in a database of its own that is
# dropped and recreated (never point these at data you keep). bench/README.md says how to read them.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_dashboard
BENCH_WEBHOOK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_webhook
BENCH_PORT ?= 8111
bench: bench-webhook bench-dashboard bench-scale bench-spread bench-slow-clients bench-pgbouncer bench-reading bench-live

bench-webhook: $(VENV)/.dev-deps
	BENCH_DATABASE_URL=$(BENCH_WEBHOOK_DATABASE_URL) BENCH_PORT=$(BENCH_PORT) $(PY) bench/webhook.py $(BENCH_ARGS)

bench-dashboard: $(VENV)/.dev-deps
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/dashboard.py

# The inbox's work-queue filters and counts on the dashboard's data set, in a database of its own.
BENCH_QUEUE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_queue
bench-queue: $(VENV)/.dev-deps
	BENCH_DATABASE_URL=$(BENCH_QUEUE_DATABASE_URL) $(PY) bench/work_queue.py

# Pages while 50 slow clients hold connections, for the shipped web process and the alternatives (no database;
# nginx's shape only where nginx is installed). SLOW_ARGS="--slow 100 --seconds 30" for more.
bench-slow-clients: $(VENV)/.dev-deps
	BENCH_PORT=$(BENCH_PORT) $(PY) bench/slow_clients.py $(SLOW_ARGS)

# The dashboard and the webhook through PgBouncer against direct connections, and the server connections of
# 8 web processes either way (needs pgbouncer). PGBOUNCER_ARGS="--processes 8 --threads 4 --pool-size 8".
bench-pgbouncer: $(VENV)/.dev-deps
	$(PY) bench/pgbouncer.py $(PGBOUNCER_ARGS)
# Orders read out of messages: the share of the corpus's lines read exactly, per language (no database).
bench-reading: $(VENV)/.dev-deps
	$(PY) bench/reading.py

# Live updates: what 200 open tabs cost while idle (the old inbox poll against the live loop), and how soon a
# customer's message reaches an open conversation. LIVE_ARGS="--tabs 500 --seconds 60" for more.
BENCH_LIVE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_live
bench-live: $(VENV)/.dev-deps
	BENCH_DATABASE_URL=$(BENCH_LIVE_DATABASE_URL) BENCH_PORT=$(BENCH_PORT) $(PY) bench/live_updates.py $(LIVE_ARGS)

# The scale benchmarks on a private PostgreSQL server configured as docs/operations.md prescribes
# (started here, left running for the next run; `make bench-stop`). The 10,000-agent database is built
# on the first run and reused. SCALE_ARGS="--agents 1000" for less.
bench-scale: $(VENV)/.dev-deps
	@server=$$(bench/postgres start) && $(PY) bench/run.py --server "$$server" $(SCALE_ARGS)

# Traffic spread over --agents agents (10,000) end to end, against 100 agents, sliced and unsliced intake
# workers, and one worker killed midway; on the scale benchmark's private server and database.
bench-spread: $(VENV)/.dev-deps
	@server=$$(bench/postgres start) && $(PY) bench/spread.py --server "$$server" $(SPREAD_ARGS)

bench-stop:
	bench/postgres stop

# A new key for FIELD_ENCRYPTION_KEYS.
key: $(VENV)/.run-deps
	@$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

clean:
	rm -rf $(VENV) .coverage .coverage.* staticfiles .test-media
