# ReConnect. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint test-unit test-integration soak bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,test]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[local,test,bench]'
	touch $(BENCH_STAMP)

install: $(STAMP)

## Run the bot against a local Synapse it starts itself (Ctrl-C stops both).
demo: $(STAMP)
	$(VENV)/bin/reconnect demo

## The whole test suite: unit tests, then integration tests on a real Synapse, each in $(TEST_WORKERS)
## parallel workers (pytest-xdist; a whole file stays in one worker, each worker starts its own
## Synapse), then the few tests that compare timings, alone so that the other workers cannot skew them.
## Unit and integration tests never share a worker: a unit test installs the test content key,
## which an integration bot running in the same process would then read its rows with.
TEST_WORKERS ?= 3
XDIST := -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile -m "not soak and not timing"
test: $(STAMP)
	$(PY) -m pytest tests/unit $(XDIST)
	$(PY) -m pytest tests/integration $(XDIST)
	$(PY) -m pytest tests/integration tests/unit -q -p no:cacheprovider -m "timing and not soak"

## Lint and types: ruff (with import order) over the tree, mypy --strict over bot/.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration -q

## Long reliability runs (fuzzing with many cases, repeated crash tests), and the core flows on
## Synapse with workers (PostgreSQL, Redis; also part of `make test`).
soak: $(STAMP)
	SOAK=1 $(PY) -m pytest tests -q -m "soak or workers" -o addopts=""

## Benchmarks (print a table and write JSON under bench/results/).
bench: $(BENCH_STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache
