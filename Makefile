# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-spark quick lint demo bench clean browser screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check eventstore projections connectors tests bench
	$(BIN)/ruff format --check eventstore projections connectors tests bench
	$(BIN)/mypy
	# tests/* and bench are script folders (their modules import each other by bare name);
	# every test folder also imports the shared helpers of tests/support by bare name
	MYPYPATH=tests/support $(BIN)/mypy --strict --explicit-package-bases tests/support
	for dir in tests/eventstore tests/projections tests/connectors tests/spark; do \
		MYPYPATH=$$dir:tests/support $(BIN)/mypy --strict --explicit-package-bases $$dir || exit 1; \
	done
	MYPYPATH=bench $(BIN)/mypy --strict --explicit-package-bases bench

test: lint browser
	$(BIN)/pytest -q --hypothesis-profile=thorough

# The page's browser test drives Debian's chromium (we are root; nothing to do once installed).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# docs/timeline.png, the README's picture of the page: the demo catalog's BINANCE:BTCUSDC.
screenshot: install browser
	test -d data/demo-catalog || $(BIN)/python -m connectors.cli.demo >/dev/null
	$(BIN)/python docs/screenshot.py data/demo-catalog docs/timeline.png

# The Spark smoke tests: the optional extra `spark` (pyspark; Java must be installed), outside
# `make test`. The repository is on PYTHONPATH because Spark's Python workers do not see
# the editable install's import hook.
test-spark: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench,spark]'
	PIT_SPARK=1 PYTHONPATH=$(CURDIR) PYSPARK_PYTHON=$(CURDIR)/$(BIN)/python \
		$(BIN)/pytest -q --hypothesis-profile=quick tests/spark

# A quick local run: no lint, a few examples per property test.
quick: install
	$(BIN)/pytest -q --hypothesis-profile=quick $(PYTEST_ARGS)

demo: install
	$(BIN)/python -m connectors.cli.demo

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
