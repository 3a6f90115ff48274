# vrouter-preflight — see README.md.
#   make preflight   set up .venv/ and run the checks against $(INVENTORY)
#   make test        set up everything the suite's own tests need and run them
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INVENTORY ?= inventory/local.yaml
PYTEST_ARGS ?=

.PHONY: preflight test lint typecheck unit bench clean

$(VENV)/.runtime: requirements.txt
	PYTHON=$(PYTHON) sh tools/system-packages.sh venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

preflight: $(VENV)/.runtime
	mkdir -p reports
	$(PY) -m pytest checks --inventory $(INVENTORY) --junitxml=reports/junit.xml \
		--alluredir=reports/allure-results --clean-alluredir $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.dev
	$(PY) -m mypy

unit: $(VENV)/.dev
	$(PY) -m pytest tests/unit --doctest-modules plugins $(PYTEST_ARGS)

test: $(VENV)/.dev lint typecheck
	sh tools/system-packages.sh test
	$(PY) -m pytest tests --doctest-modules plugins $(PYTEST_ARGS)

bench: $(VENV)/.dev
	sh tools/system-packages.sh test
	$(PY) -m bench.gather_bench

clean:
	rm -rf $(VENV) reports/*.xml .mypy_cache .ruff_cache .pytest_cache
