# The commands the README names. `make run` and `make test` each do their own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The test suite's services (README: "Running the tests").
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ari_review
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run setup app-data test test-setup services chromium lint format bench emotions bench-workspace worker beat clean

## run: set up .venv, migrate, load demo data and models, serve on 127.0.0.1:8000
run: setup app-data
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

setup: $(STAMP)

app-data: setup
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_starter_content
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py ensure_models
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py train_emotions --quick --if-missing
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py refresh_queues
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py compute_metrics

## test: set up .venv, start PostgreSQL/Redis if down, install Chromium, lint, run all tests
test: test-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest -q -p no:cacheprovider

test-setup: setup services chromium

services:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "Starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; fi
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "Starting Redis"; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; \
	  for i in $$(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; fi
	@pg_isready -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and this is not root: browser tests will be skipped"; fi; }

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmarks (tables on stdout, JSON under bench-results/)
bench: setup
	mkdir -p bench-results
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_starter_content
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py ensure_models
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_classifiers
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_chat

## emotions: the served emotion model (MiniLM + TF-IDF, about 6 minutes on two cores; docs/emotions.md)
emotions: setup
	mkdir -p bench-results
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py train_emotions --if-missing

bench-workspace: setup
	mkdir -p bench-results
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py generate_load_data --if-empty
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_workspace

## worker / beat: Celery against REDIS_URL (see README)
worker: setup
	$(BIN)/celery -A ari_review worker -Q chat,default,training -l info

beat: setup
	$(BIN)/celery -A ari_review beat -l info

clean:
	rm -rf $(VENV) var db.sqlite3 bench-results
