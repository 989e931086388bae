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

$(STAMP)/assets: package.json package-lock.json $(wildcard assets/scss/*.scss) assets/copy-js.mjs $(wildcard assets/js/*.js)
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
	SURVEY_PERSON_KEY_SECRET="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=closing-the-loop.example \
	$(PY) manage.py check --deploy --fail-level WARNING

# Static analysis of our code (bandit) and known vulnerabilities in the pinned dependencies
# (pip-audit, which needs PyPI's per-release JSON API). pip-audit itself exits 0 when it could not
# look a package up, so .ci/pip_audit_gate.py reads its report: a known vulnerability, or a package
# not audited while the others were, fails. Where the vulnerability data cannot be reached at all,
# nothing was audited: that fails too, unless PIP_AUDIT_UNREACHABLE=warn (CI on this machine's
# network), which carries on saying loudly that the dependencies were NOT audited.
PIP_AUDIT_UNREACHABLE ?= fail
security-scan: install
	$(BIN)/bandit -q -c pyproject.toml -r training surveys practice analysis config
	@mkdir -p $(STAMP); rm -f $(STAMP)/pip-audit.json; \
	$(BIN)/pip-audit -r requirements.lock --progress-spinner off -f json -o $(STAMP)/pip-audit.json \
		> $(STAMP)/pip-audit.txt 2>&1 || true; \
	$(PY) .ci/pip_audit_gate.py $(STAMP)/pip-audit.json $(STAMP)/pip-audit.txt \
		$(if $(filter warn,$(PIP_AUDIT_UNREACHABLE)),--unreachable-ok)

# Back up a PostgreSQL database loaded with the demo, restore it into an empty database and check
# that the two hold the same data and produce the same impact report. Loopback only; the scratch
# databases are dropped at the end.
DRILL_SERVER ?= postgres://postgres@127.0.0.1:5432
DRILL_DIR := $(STAMP)/drill
DRILL_REPORT_NORMALISE := $(PY) .ci/report_normalise.py
backup-restore-drill: install
	@mkdir -p $(DRILL_DIR)
	rm -f $(DRILL_DIR)/*.json $(DRILL_DIR)/*.txt
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
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_src $(PY) manage.py impact_report --format json \
		--output $(DRILL_DIR)/source-report.json
	DATABASE_URL=$(DRILL_SERVER)/ctl_drill_dst $(PY) manage.py impact_report --format json \
		--output $(DRILL_DIR)/restored-report.json
	$(DRILL_REPORT_NORMALISE) $(DRILL_DIR)/source-report.json $(DRILL_DIR)/source-report.txt
	$(DRILL_REPORT_NORMALISE) $(DRILL_DIR)/restored-report.json $(DRILL_DIR)/restored-report.txt
	@# A report with no figures would compare equal to anything: refuse it.
	@grep -q '"estimate": -\?[0-9]' $(DRILL_DIR)/source-report.txt || \
		{ echo "The source report has no estimates: nothing was compared."; exit 1; }
	diff -u $(DRILL_DIR)/source-report.txt $(DRILL_DIR)/restored-report.txt
	dropdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_src
	dropdb --maintenance-db=$(DRILL_SERVER)/postgres ctl_drill_dst
	@echo "Backup and restore drill passed: $$(wc -l < $(DRILL_DIR)/source.txt) tables identical \
	($$(awk -F'\t' '{s += $$2} END {print s}' $(DRILL_DIR)/source.txt) rows), and the same impact report \
	($$(grep -c '"estimate": -\?[0-9]' $(DRILL_DIR)/source-report.txt) estimates)."

clean:
	rm -rf $(VENV) node_modules $(STAMP) static/build static/govuk staticfiles
