# Huiyin: the two commands of the README are `make run` and `make test`; both set up everything.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the product and its tests need: a Kai font draws the demo letters and test
# scans; LibreOffice (kept warm through python3-uno) turns replies into PDF; Fandol (texlive) is
# the only free 仿宋 and Noto CJK has 小标宋 and rare name characters; poppler checks the PDFs;
# Tesseract is the OCR benchmark's baseline engine.
SYSTEM_PACKAGES := fonts-arphic-ukai fonts-noto-cjk texlive-lang-chinese libreoffice-writer-nogui \
	python3-uno poppler-utils tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra
# The tests also drive a real browser: Debian's chromium (Playwright never downloads one);
# the suite runs a second time on a throwaway PostgreSQL server (Debian's postgresql).
# Redis (Debian's redis-server) carries the queue when workers run on several machines.
TEST_PACKAGES := chromium postgresql redis-server
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres quick lint audit soak setup system test-system clean-instance

run: setup  ## init the instance with demo letters, then serve it on http://127.0.0.1:5000
	$(BIN)/huiyin --home $(HOME_DIR) init --demo
	$(BIN)/huiyin --home $(HOME_DIR) serve --host $(HOST) --port $(PORT)

# The two passes run side by side: most tests wait on one core at a time (a browser, LibreOffice, a
# subprocess), so together they take little longer than the longer one. The SQLite pass prints as
# it goes; the PostgreSQL pass's log (test-artifacts/postgresql.log) is printed after it.
test: setup test-system lint audit  ## the whole suite, as CI runs it: on SQLite and on PostgreSQL, side by side
	@mkdir -p test-artifacts
	@HUIYIN_TEST_POSTGRES=1 $(BIN)/pytest -p no:cacheprovider >test-artifacts/postgresql.log 2>&1 & \
	postgres=$$!; $(BIN)/pytest; sqlite=$$?; wait $$postgres; pg=$$?; \
	echo; echo "== the same suite on PostgreSQL (test-artifacts/postgresql.log) =="; \
	cat test-artifacts/postgresql.log; [ $$sqlite -eq 0 ] && [ $$pg -eq 0 ]

# Every test that can touch the records database runs again, slow ones included; tests/conftest.py
# (DATABASE_FREE) leaves out those that cannot (tests/ocr, tests/letters, tests/search, ...).
test-postgres: setup test-system  ## the suite again on a throwaway PostgreSQL (HUIYIN_TEST_POSTGRES)
	HUIYIN_TEST_POSTGRES=1 $(BIN)/pytest

quick: setup test-system  ## the suite without the slow tests
	$(BIN)/pytest -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# pip-audit needs PyPI's per-version JSON, which the registries this office reaches do not serve
# (it then reports every pin clean without checking one): the advisories PyPI publishes for the
# latest release are checked instead, and pins that are not the latest are named (tests/security).
audit: setup  ## known vulnerabilities in the locked dependencies
	$(BIN)/python -m tests.security.lock_audit requirements.lock

soak: setup test-system  ## the long forms: fuzzing, 52 SIGKILLs, 50 clerks x 5 min with ingest (test-artifacts/)
	HUIYIN_SOAK=1 $(BIN)/pytest -m soak

setup: system $(STAMP)

test-system:
	@$(MAKE) --no-print-directory system SYSTEM_PACKAGES="$(TEST_PACKAGES)"

system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

clean-instance:
	rm -rf $(HOME_DIR)
