# isocert — two commands from a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
ISOCERT := $(BIN)/isocert
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# The portal's own links — every e-mail, the certificate PDF's "Verify at" line and its
# signed QR code — use SITE_URL. Served by `make run`/`make dev`, they point where it serves
# (HOST:PORT; a wildcard HOST links to 127.0.0.1); a SITE_URL set in the environment or on
# the command line wins (docs/configuration.md).
SITE_URL ?= http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

# `make run`'s server part (and `make dev`'s): the task worker and the web server, stopped by
# one Ctrl-C within 5 s. Each runs in its own session (setsid), out of the terminal's reach:
# Ctrl-C interrupts make and this shell only, and the trap sends exactly one SIGTERM to each
# (a shell starts background commands with SIGINT ignored, so SIGINT would not reach
# runserver's reloader) — granian stops its workers gracefully, the worker finishes its task.
# Whatever still runs after 3 s gets a second SIGTERM (the worker then leaves its task),
# after 4 s SIGKILL (their child processes too). The trap removes itself first.
# (The old `trap 'kill 0' INT TERM EXIT` signalled its own group from inside its own trap: a
# storm of signals ending in "make: *** Segmentation fault", the shell's stack overflowing;
# granian workers that got the terminal's SIGINT refused to stop gracefully.)
# The portal logs one line per request itself (isocert.request), so no --access-log.
SUPERVISE = pids=; \
	alive() { for p in $$pids; do kill -0 $$p 2>/dev/null && return 0; done; return 1; }; \
	stop() { trap - INT TERM EXIT; kill -TERM $$pids 2>/dev/null; \
	  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do alive || break; sleep 0.2; done; \
	  alive && kill -TERM $$pids 2>/dev/null; \
	  for i in 1 2 3 4 5; do alive || break; sleep 0.2; done; \
	  for p in $$pids; do pkill -KILL -P $$p 2>/dev/null; kill -KILL $$p 2>/dev/null; done; \
	  wait 2>/dev/null; return 0; }; \
	trap stop INT TERM EXIT; \
	$(1) setsid $(2) & pids="$$!"; \
	$(1) setsid $(3) & pids="$$pids $$!"; \
	wait
SERVE = $(call SUPERVISE,SITE_URL='$(SITE_URL)',$(ISOCERT) db_worker --queue-name '*', \
	$(BIN)/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(WORKERS) \
	  --blocking-threads 1 --no-ws --workers-kill-timeout 2 isocert.wsgi:application)

.PHONY: run serve dev test test-sqlite test-postgres lint fmt migrate demo worker pdf-libs browser proxy clean

$(BIN)/python:
	@PY=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$PY"; \
	"$$PY" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# This local installation's SECRET_KEY: random, made once, never in the repository. With
# DEBUG off the portal refuses to start without a key (docs/security.md); production sets
# SECRET_KEY or SECRET_KEY_FILE instead.
var/secret-key: | $(BIN)/python
	@mkdir -p var
	@umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@echo "Created var/secret-key (this installation's SECRET_KEY)"

# This local installation's certificate signing key (QR codes, the audit trail's head): made
# once, explicitly — with DEBUG off the portal refuses to start without a configured key
# (isocert.E002) rather than make one per host. An installation made before keeps the key its
# certificates were signed with (var/certificate-signing-key.pem). A CERTIFICATE_SIGNING_KEY_FILE
# or CERTIFICATE_SIGNING_KEY in the environment wins.
export CERTIFICATE_SIGNING_KEY_FILE ?= $(CURDIR)/var/signing-key
var/signing-key: | $(VENV)/.installed
	@mkdir -p var
	@if [ -f var/certificate-signing-key.pem ]; then \
	  install -m 600 var/certificate-signing-key.pem $@; \
	  echo "Created var/signing-key from var/certificate-signing-key.pem (the key the demo's certificates carry)"; \
	else $(ISOCERT) signing-key generate --output $@; fi

migrate: $(VENV)/.installed var/secret-key var/signing-key
	@mkdir -p var
	$(ISOCERT) migrate --no-input
	$(ISOCERT) createcachetable

# The demo's certificates keep the verification address of the day they were issued.
demo: migrate pdf-libs
	SITE_URL='$(SITE_URL)' $(ISOCERT) seed-demo

## Serve the portal with demo data on http://$(HOST):$(PORT) (granian + task worker).
run: demo
	$(ISOCERT) collectstatic --no-input --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT), links to $(SITE_URL)  (Ctrl-C stops the server and the worker)"
	@$(SERVE)

# The server part of `make run` on its own (no install, migration or demo data first):
# tests/test_make_run_stop.py starts it and presses Ctrl-C.
serve:
	@$(SERVE)

## Development server with auto-reload (DEBUG on) and the worker.
dev: demo
	@$(call SUPERVISE,DEBUG=1 SITE_URL='$(SITE_URL)',$(ISOCERT) db_worker --queue-name '*', \
	  $(ISOCERT) runserver $(HOST):$(PORT))

worker: $(VENV)/.installed var/secret-key var/signing-key
	SITE_URL='$(SITE_URL)' $(ISOCERT) db_worker --queue-name '*'

# Debian packages: Pango and fonts for WeasyPrint's PDFs, Chromium for the browser tests,
# nginx for the reverse-proxy test.
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

pdf-libs:
	@if ! /sbin/ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || [ ! -d /usr/share/fonts/truetype/dejavu ] \
	  || ! /sbin/ldconfig -p | grep -q 'libharfbuzz-subset.so.0'; then \
	  echo "Installing Pango, HarfBuzz font subsetting and fonts for PDF rendering"; \
	  $(APT_INSTALL) libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; \
	fi

browser: pdf-libs
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(APT_INSTALL) chromium >/dev/null; \
	fi

# Debian's nginx for tests/deploy/test_nginx.py, which runs it (as a subprocess on free
# ports) in front of the portal with deploy/nginx/isocert.conf.template.
proxy:
	@if [ ! -x /usr/sbin/nginx ]; then \
	  echo "Installing Debian's nginx for the reverse-proxy test"; \
	  $(APT_INSTALL) nginx >/dev/null; \
	fi

## Whole suite on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL: the two passes
## run side by side (one per core; each pass's output is printed whole when it ends).
test: $(VENV)/.installed-test browser proxy
	@mkdir -p var
	$(BIN)/ruff check .
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped (.ci/run sets it)"; \
	  $(MAKE) --no-print-directory test-sqlite; fi

test-sqlite: $(VENV)/.installed-test
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	@echo "== test suite on PostgreSQL =="
	DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

fmt: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/staticfiles var/test*.sqlite3
