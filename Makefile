# factorstack: every target works on a fresh clone with only python3 and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.base-installed
TEST_STAMP := $(VENV)/.test-installed
PIP_INSTALL := $(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt

.PHONY: venv templates test test-fast lint bench local-aws clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BASE_STAMP): $(BIN)/python setup.cfg pyproject.toml constraints.txt
	$(PIP_INSTALL) -e .
	touch $@

$(TEST_STAMP): $(BASE_STAMP)
	$(PIP_INSTALL) -e '.[test]'
	touch $@

# The virtual environment alone (CI's apply step: it must not rebuild the reviewed templates).
venv: $(BASE_STAMP)

templates: $(BASE_STAMP)
	$(BIN)/factorstack build

# The whole suite, e2e tests on a local AWS endpoint included (what CI and the README run).
test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# Every test that needs no server: no moto server, no deploy.sh against it (tests/e2e is left out).
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not e2e"

lint: $(TEST_STAMP)
	$(BIN)/ruff check templates_src tests
	$(BIN)/ruff format --check templates_src tests
	$(BIN)/mypy templates_src
	$(BIN)/lint-imports --no-logo
	$(BIN)/factorstack lint
	$(BIN)/hadolint docker/*/Dockerfile
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck
	$(BIN)/shellcheck docker/apache/start.sh deploy.sh .ci/run

bench: $(BASE_STAMP)
	$(BIN)/python bench/bench_build.py

local-aws: $(TEST_STAMP)
	$(BIN)/factorstack local-aws

clean:
	rm -rf build
