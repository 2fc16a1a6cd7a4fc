# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench clean

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
	# tests/* and bench are script folders (their modules import each other by bare name)
	for dir in tests/eventstore tests/projections tests/connectors bench; do \
		MYPYPATH=$$dir $(BIN)/mypy --strict --explicit-package-bases $$dir || exit 1; \
	done

test: lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/python -m connectors.cli.demo

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
