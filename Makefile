# Collections for Odoo: developer commands. See README.md.
# Everything runs in .venv/, which `make env` (a step of every target) creates and keeps up to date.
VENV ?= $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
export VENV
BASE_PYTHON ?= python3
DB_HOST ?=
DB_PORT ?=
DB_USER ?=
TEST_DB ?= collections_test
DEMO_DB ?= collections_demo
HTTP_PORT ?= 8069
SMTP_PORT ?= 2525
DEMO_MAIL ?= $(CURDIR)/.demo-mail
DEMO_LANGUAGES ?= es_MX,es_CO,es_CL,es_AR,es_PE,es_419,es_ES,fr_FR,pt_PT
MODULES ?= collections_management,collections_whatsapp,collections_portal,payment_demo
ADDONS := collections_management collections_whatsapp collections_portal
# What pytest runs (make test TESTS=collections_management/tests/test_dunning_engine.py)
TESTS ?= $(foreach a,$(ADDONS),$(a)/tests) tests

DB_ARGS := $(if $(DB_HOST),--db_host=$(DB_HOST)) $(if $(DB_PORT),--db_port=$(DB_PORT)) $(if $(DB_USER),--db_user=$(DB_USER))
PG_ARGS := $(if $(DB_HOST),-h $(DB_HOST)) $(if $(DB_PORT),-p $(DB_PORT)) $(if $(DB_USER),-U $(DB_USER))
ODOO := $(PYTHON) -m odoo $(DB_ARGS) --addons-path=$(CURDIR)

.PHONY: help env clean-env postgres test demo lint pot

help:
	@echo "make test   run every test on a fresh database ($(TEST_DB))"
	@echo "make demo   serve a demo database ($(DEMO_DB)) on http://127.0.0.1:$(HTTP_PORT)"
	@echo "make lint   ruff, ruff format and pylint-odoo"
	@echo "make env    only prepare .venv/ (Odoo 19 from ODOO_SOURCE, requirements); done by every target"
	@echo "make clean-env  remove .venv/"
	@echo "make pot    export each module's i18n/<module>.pot from a fresh database ($(TEST_DB)_pot)"

env:
	@PYTHON=$(BASE_PYTHON) .ci/setup-env

clean-env:
	rm -rf $(VENV)

postgres:
	@if pg_isready -q $(PG_ARGS) 2>/dev/null; then :; \
	elif command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then \
		echo "Starting the local PostgreSQL..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start; \
		for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q $(PG_ARGS) && break; sleep 1; done; \
	else echo "PostgreSQL is not running and was not found here; start it or set DB_HOST." >&2; exit 1; fi

test: env postgres
	@dropdb $(PG_ARGS) --if-exists $(TEST_DB)
	@dropdb $(PG_ARGS) --if-exists $(TEST_DB)_together
	@echo "Installing the modules one by one, in dependency order..."
	@set -e; for module in $$(echo $(MODULES) | tr ',' ' '); do \
		echo "  $$module"; \
		$(ODOO) -d $(TEST_DB) -i $$module --stop-after-init --log-level=warn; \
	done
	@echo "Installing the modules together..."
	$(ODOO) -d $(TEST_DB)_together -i $(MODULES) --stop-after-init --log-level=warn
	@dropdb $(PG_ARGS) --if-exists $(TEST_DB)_together
	$(PYTHON) -m pytest -p no:cacheprovider --odoo-database=$(TEST_DB) --odoo-addons-path=$(CURDIR) --odoo-http \
		$(TESTS)

demo: env postgres
	@dropdb $(PG_ARGS) --if-exists $(DEMO_DB)
	@echo "Creating $(DEMO_DB) with the demo customers' languages, served at http://127.0.0.1:$(HTTP_PORT)..."
	$(ODOO) -d $(DEMO_DB) -i base --with-demo --load-language=$(DEMO_LANGUAGES) --stop-after-init --log-level=warn
	@psql $(PG_ARGS) -q -d $(DEMO_DB) -c "INSERT INTO ir_config_parameter (key, value, create_date, write_date) \
		VALUES ('web.base.url', 'http://127.0.0.1:$(HTTP_PORT)', now(), now()), ('web.base.url.freeze', 'True', now(), now()) \
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
	@rm -rf $(DEMO_MAIL); mkdir -p $(DEMO_MAIL)/cur $(DEMO_MAIL)/new $(DEMO_MAIL)/tmp
	@$(PYTHON) -m aiosmtpd -n -l 127.0.0.1:$(SMTP_PORT) -c aiosmtpd.handlers.Mailbox $(DEMO_MAIL) & \
	trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	$(ODOO) -d $(DEMO_DB) -i $(MODULES) --with-demo --stop-after-init --log-level=warn \
		--smtp=127.0.0.1 --smtp-port=$(SMTP_PORT) && \
	echo && \
	echo "Collections demo: http://127.0.0.1:$(HTTP_PORT)/odoo?db=$(DEMO_DB)" && \
	echo "  manager: admin / admin, or elena.torres / elena.torres" && \
	echo "  collectors: lucia.fernandez, diego.ramirez, sofia.martin (password = login)" && \
	echo "  e-mails go to a local mail sink on 127.0.0.1:$(SMTP_PORT); read them in $(DEMO_MAIL)/new/" && \
	echo && \
	$(ODOO) -d $(DEMO_DB) --http-interface=127.0.0.1 --http-port=$(HTTP_PORT) --db-filter='^$(DEMO_DB)$$' \
		--smtp=127.0.0.1 --smtp-port=$(SMTP_PORT)

lint: env
	$(PYTHON) -m ruff check $(ADDONS) tests bench conftest.py .ci/gen-readme
	$(PYTHON) -m ruff format --check $(ADDONS) tests bench conftest.py .ci/gen-readme
	$(PYTHON) .ci/gen-readme --check
	@echo "pylint-odoo, optional checks (shown, never failing):"
	@$(PYTHON) -m pylint --rcfile=.pylintrc --exit-zero $(ADDONS)
	@echo "pylint-odoo, OCA's mandatory checks:"
	$(PYTHON) -m pylint --rcfile=.pylintrc-mandatory $(ADDONS)

pot: env postgres
	@dropdb $(PG_ARGS) --if-exists $(TEST_DB)_pot
	$(ODOO) -d $(TEST_DB)_pot -i $(MODULES) --stop-after-init --log-level=warn
	$(ODOO) i18n export -d $(TEST_DB)_pot $(ADDONS)
	@dropdb $(PG_ARGS) --if-exists $(TEST_DB)_pot
