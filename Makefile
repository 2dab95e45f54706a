# Two commands a newcomer needs: `make demo` and `make test`. Both bootstrap everything they use:
# uv into .tools/, the pinned dependencies (uv.lock) into .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON := $(shell command -v $(PYTHON))

# The test suite runs against PostgreSQL (this machine's local server unless DATABASE_URL says otherwise).
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/aftersales)
PYTEST_ARGS ?= -n 2

.PHONY: demo test install lint bench-api bench-admin bench-deadlines bench-refunds bench-webhooks chromium

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here); a CJK font lets
# the screenshots of the Chinese screens show their words.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wqy; } || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; }

demo: install
	DEBUG=1 $(VENV)/bin/python manage.py migrate --noinput
	DEBUG=1 $(VENV)/bin/python manage.py seed_demo
	DEBUG=1 WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1 $(VENV)/bin/python manage.py runserver 127.0.0.1:8000 --noreload

test: install chromium
	DATABASE_URL=$(TEST_DATABASE_URL) SECRET_KEY=test-only-secret $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench-api: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/python bench/api.py

bench-admin: install
	$(VENV)/bin/python bench/admin_list.py

bench-deadlines: install
	$(VENV)/bin/python bench/deadlines.py

bench-refunds: install
	$(VENV)/bin/python bench/refunds.py

bench-webhooks: install
	$(VENV)/bin/python bench/webhooks.py
