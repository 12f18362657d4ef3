# The two commands for a fresh machine:
#   make run   — set up and run the app (SQLite, tasks in-process, demo data) on http://127.0.0.1:8000
#   make test  — set up and run the whole suite on PostgreSQL and Redis (installs Debian packages it needs)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEBIAN_PACKAGES := chromium poppler-utils gettext fonts-dejavu-core fonts-liberation libpango-1.0-0 libpangoft2-1.0-0 \
	nginx pgbouncer postgresql-client openssl
# Debian's docker-compose (1.29) checks deploy/compose.yaml (`docker-compose config`) where Docker's own plugin is
# missing; without its recommended packages, which would bring a second Docker engine.
DEBIAN_PACKAGES_ALONE := docker-compose
# The exact versions the suite passes with, with their hashes (requirements/README.md; `make lock` updates them).
RUNTIME_LOCK := requirements/runtime.lock.txt
TEST_LOCK := requirements/test.lock.txt
UV_VERSION := 0.13.9
UV_COMPILE = UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile pyproject.toml --universal \
	--python-version 3.11 --generate-hashes --quiet $(if $(UPGRADE),--upgrade,)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/caution_unique
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Both cores: each test file runs whole on one worker (a browser module keeps its Chromium to itself).
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test venv deps test-deps lock system-deps services messages migrate-local benchmark drill clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(VENV)/bin/activate

# Installed from the lock only (--require-hashes: a version or a file that is not the one locked is refused), then
# the project itself without resolving anything again.
deps: venv
	$(PIP) install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(PIP) install --quiet --no-deps -e .

test-deps: venv
	$(PIP) install --quiet --require-hashes -r $(TEST_LOCK)
	$(PIP) install --quiet --no-deps -e .

# Re-lock after changing a range in pyproject.toml: keeps every pin it can; UPGRADE=1 takes the newest allowed.
# Then `make test`, and commit pyproject.toml with both lock files.
lock: venv
	$(PIP) install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) -o $(RUNTIME_LOCK)
	$(UV_COMPILE) --extra test -o $(TEST_LOCK)

messages: venv
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0

run: deps messages
	@mkdir -p var
	$(PY) manage.py certificate_devkey
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_reference
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# Debian packages the suite needs: Chromium for browser tests, poppler for PDF text and images, gettext.
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@missing=""; for p in $(DEBIAN_PACKAGES_ALONE); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages (without recommends):$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null; \
	fi

# PostgreSQL and Redis must answer; start the installed ones if they are down.
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; pg_isready -h 127.0.0.1 -p 5432
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; redis-cli -h 127.0.0.1 -p 6379 ping

# The embedded default (SQLite, what `make run` uses) first: the services, the bounds of every input, the API (its
# contract tests included), the pages, the discharge files, reconciliations and other background paths, claims and
# the verify page — each xdist worker on a test database of its own (Django's in-memory SQLite, one per process).
# Tests marked `postgresql` (real concurrent transactions, raw PostgreSQL SQL, the benchmarks, the real worker)
# say why and run in the second step only. Then the whole suite on PostgreSQL.
SQLITE_TESTS := tests/guarantees/services tests/guarantees/inputs tests/guarantees/api tests/guarantees/operations \
	tests/guarantees/web tests/guarantees/documents/test_verify_page.py tests/guarantees/documents/test_verify_wrong_page.py \
	tests/accounts/test_pages.py tests/reporting
test: system-deps test-deps services messages
	@mkdir -p var/static
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) DJANGO_SETTINGS_MODULE=config.settings.test \
		$(PY) manage.py makemigrations --check --dry-run -v 1
	$(VENV)/bin/lint-imports --no-cache
	DATABASE_URL=sqlite:///$(CURDIR)/var/test-sqlite.db $(PY) -m pytest $(SQLITE_TESTS) -m "not postgresql and not browser" \
		-q -p no:cacheprovider -n 2
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Replication and failover drill on the local PostgreSQL cluster (a standby on another port, PgBouncer, promotion).
# Not part of `make test`: it reconfigures the machine's PostgreSQL for a few minutes, then puts it back.
drill: test-deps services
	deploy/drill

clean:
	rm -rf $(VENV) var db.sqlite3*
