# Closing the Loop: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := .make

.PHONY: install demo test test-postgres lint format check-migrations serve clean check-deploy \
	backup-restore-drill security-scan

# The virtualenv and node_modules are rebuilt only when the lock files change.
install: $(STAMP)/python $(STAMP)/assets

$(STAMP)/python: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/assets: package.json package-lock.json assets/scss/app.scss assets/copy-js.mjs $(wildcard assets/js/*.js)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	@mkdir -p $(STAMP) && touch $@

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 (Ctrl+C to stop)"
	$(PY) manage.py runserver 127.0.0.1:8000

# The whole suite on SQLite; set DATABASE_URL to run the same suite on PostgreSQL.
test: install
	$(BIN)/pytest -n 2 --dist loadfile

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

# Django's deployment checks under a production environment. The secret keys are made up on the
# spot: this checks the settings, it does not run the service.
check-deploy: install
	DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	CASE_REFERENCE_HASH_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=closing-the-loop.example \
	$(PY) manage.py check --deploy --fail-level WARNING

# Static analysis of our code (bandit) and known vulnerabilities in the pinned dependencies
# (pip-audit, which needs to reach PyPI's vulnerability data).
security-scan: install
	$(BIN)/bandit -q -c pyproject.toml -r training surveys practice analysis config
	@# pip-audit fails (exit 1) on any known vulnerability. Where its vulnerability data cannot be
	@# reached it cannot audit a package; that is reported loudly, never counted as a pass.
	@mkdir -p $(STAMP); status=0; \
	$(BIN)/pip-audit -r requirements.lock --progress-spinner off > $(STAMP)/pip-audit.txt 2>&1 || status=$$?; \
	cat $(STAMP)/pip-audit.txt; \
	skipped=$$(grep -c "could not be audited" $(STAMP)/pip-audit.txt || true); \
	if [ "$$skipped" -gt 0 ]; then \
		echo "WARNING: pip-audit could not reach vulnerability data for $$skipped packages: they were NOT audited."; \
	fi; \
	exit $$status

# Back up a PostgreSQL database loaded with the demo, restore it into an empty database and check
# that the two hold the same data. Loopback only; the scratch databases are dropped at the end.
DRILL_SERVER ?= postgres://postgres@127.0.0.1:5432
DRILL_DIR := $(STAMP)/drill
backup-restore-drill: install
	@mkdir -p $(DRILL_DIR)
	dropdb --if-exists --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_src
	dropdb --if-exists --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_dst
	createdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_src
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_src $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_src $(PY) manage.py seed_demo > /dev/null
	pg_dump -Fc -d $(DRILL_SERVER)/ctl_drill_src -f $(DRILL_DIR)/backup.dump
	createdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_dst
	pg_restore --no-owner --exit-on-error -d $(DRILL_SERVER)/ctl_drill_dst $(DRILL_DIR)/backup.dump
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_src $(PY) manage.py data_summary > $(DRILL_DIR)/source.txt
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_dst $(PY) manage.py data_summary > $(DRILL_DIR)/restored.txt
	diff -u $(DRILL_DIR)/source.txt $(DRILL_DIR)/restored.txt
	dropdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_src
	dropdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_dst
	@echo "Backup and restore drill passed: $$(wc -l < $(DRILL_DIR)/source.txt) tables identical \
	($$(awk -F'\t' '{s += $$2} END {print s}' $(DRILL_DIR)/source.txt) rows)."

clean:
	rm -rf $(VENV) node_modules $(STAMP) static/build static/govuk staticfiles
