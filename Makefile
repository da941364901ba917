# The two commands: `make serve` and `make test`. Each does all of its own set-up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock 2>/dev/null | sha1sum | cut -c1-12)
DATA_DIR ?= .hedgerow
PYTEST_ARGS ?=

.PHONY: serve test setup system-deps browser-deps clean bench

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

# Debian packages the test suite needs (PostgreSQL for the metadata suite, Chromium for the
# browser SDK tests); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

browser-deps: system-deps
	@bash scripts/browser-deps.sh

serve: setup
	$(VENV)/bin/hedgerow serve --data-dir $(DATA_DIR) --host 127.0.0.1 --port 8000

test: setup browser-deps
	bash scripts/run-tests.sh $(PYTEST_ARGS)

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache
