# vrouter-preflight — see README.md.
#   make preflight   set up .venv/ and run the checks against $(INVENTORY)
#   make report      turn the last run's Allure results into reports/report/index.html
#   make test        set up everything the suite's own tests need and run them
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INVENTORY ?= inventory/local.yaml
PYTEST_ARGS ?=

.PHONY: preflight report test lint typecheck unit bench clean

# The pinned runtime, then this checkout installed in editable mode (its pytest11 entry point
# registers the plugin; the code is read from plugins/ and checks/ in place).
$(VENV)/.runtime: requirements.txt pyproject.toml
	PYTHON=$(PYTHON) sh tools/system-packages.sh venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The Allure 2 command line (npm allure-commandline, pinned by package-lock.json; runs on Java).
ALLURE_CLI := tools/report/node_modules/.installed
$(ALLURE_CLI): tools/report/package.json tools/report/package-lock.json
	sh tools/system-packages.sh report
	cd tools/report && npm ci --no-audit --no-fund --loglevel=error
	touch $@

preflight: $(VENV)/.runtime
	mkdir -p reports
	$(PY) -m pytest checks --inventory $(INVENTORY) --junitxml=reports/junit.xml \
		--alluredir=reports/allure-results --clean-alluredir $(PYTEST_ARGS)

# The change-board report of the last `make preflight` (reports/allure-results + reports/summary.json).
# A sharded run: make report REPORT_RESULTS="out/1/allure-results out/2/allure-results" REPORT_SUMMARIES="out/1/s.json out/2/s.json"
REPORT_RESULTS ?= reports/allure-results
REPORT_SUMMARIES ?= reports/summary.json
report: $(VENV)/.runtime $(ALLURE_CLI)
	$(PY) -m vrouter_preflight.reporting.build_report --results $(REPORT_RESULTS) --summary $(REPORT_SUMMARIES)

# ruff; the import contracts of pyproject.toml (layers only import downwards, no import cycle); and what
# the installed package runs on: Python 3.9 and later (vermin).
lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/vermin -q --no-tips --violations -t=3.9- plugins/vrouter_preflight checks

typecheck: $(VENV)/.dev
	$(PY) -m mypy

unit: $(VENV)/.dev
	$(PY) -m pytest tests/unit --doctest-modules plugins $(PYTEST_ARGS)

test: $(VENV)/.dev $(ALLURE_CLI) lint typecheck
	sh tools/system-packages.sh test
	$(PY) -m pytest tests --doctest-modules plugins $(PYTEST_ARGS)

bench: $(VENV)/.dev
	sh tools/system-packages.sh test
	$(PY) -m bench.gather_bench

clean:
	rm -rf $(VENV) reports/*.xml .mypy_cache .ruff_cache .pytest_cache

# Compute lab (lab/, README "Compute lab"): QEMU guests with Debian's 6.1 kernel and the
# stand-in vRouter module. Big artifacts live in $(LAB_CACHE), outside the repo.
#   make lab        build (or reuse) the guest image and modules; installs host packages if missing
#   make lab-up     boot LAB_GUESTS guests (fresh overlays), write reports/lab/inventory.yaml
#   make lab-down   stop exactly the guests lab-up started
LAB_GUESTS ?= 1
LAB_HP1G ?= 2
LAB_HP2M ?= 0
LAB_MEM_PER_NODE ?= 3072
LAB_UP_ARGS ?=
.PHONY: lab lab-up lab-down

lab:
	sh tools/lab-packages.sh
	bash lab/build.sh >/dev/null

lab-up: lab
	$(PYTHON) -m lab up --guests $(LAB_GUESTS) --hp1g $(LAB_HP1G) --hp2m $(LAB_HP2M) \
		--mem-per-node $(LAB_MEM_PER_NODE) $(LAB_UP_ARGS)

lab-down:
	$(PYTHON) -m lab down

# The gate's accuracy on the lab (README "Gate accuracy on the lab"): BENCH_LAB_N random + BENCH_LAB_NEAR
# at-the-threshold fresh-boot scenarios, the suite's verdict vs the stand-in's load -> reports/lab-accuracy/{results.jsonl,matrix.json}.
BENCH_LAB_N ?= 60
BENCH_LAB_NEAR ?= 24
BENCH_LAB_SEED ?= 6
.PHONY: bench-lab
bench-lab: $(VENV)/.dev lab
	$(PY) -m bench.lab_accuracy --n $(BENCH_LAB_N) --near $(BENCH_LAB_NEAR) --seed $(BENCH_LAB_SEED)

# The fleet benchmark (README "Fleet benchmark"): per fleet size in BENCH_FLEET_K, that many loopback
# sshd's; the suite with -n 0 (no xdist), -n 1 and -n 2 (and pytest-testinfra -n 2 at 100 hosts) -> reports/bench/fleet.json.
#   make bench-fleet BENCH_FLEET_K="100 300"
BENCH_FLEET_K ?= 100 300 1000
TESTINFRA_VENV := $(VENV)/testinfra
.PHONY: bench-fleet
$(TESTINFRA_VENV)/.installed: requirements.txt bench/requirements-testinfra.txt
	$(PYTHON) -m venv $(TESTINFRA_VENV)
	$(TESTINFRA_VENV)/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements-testinfra.txt
	touch $@

# The suite as an operator installs it (runtime pins, then this checkout as a regular, non-editable
# install, refreshed on every bench so it is the code of the checkout): .venv/operator/.
OPERATOR_VENV := $(VENV)/operator
$(OPERATOR_VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(OPERATOR_VENV)
	$(OPERATOR_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# BENCH_BASELINE=REF (a commit, e.g. HEAD~1): that commit installed the same way into .venv/baseline/ and
# run by turns with the checkout on the same fleets; the table ends with their ratios.
BENCH_BASELINE ?=
BASELINE_VENV := $(VENV)/baseline
bench-fleet: $(VENV)/.dev $(TESTINFRA_VENV)/.installed $(OPERATOR_VENV)/.runtime
	sh tools/system-packages.sh test
	$(OPERATOR_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps --force-reinstall .
	if [ -n "$(BENCH_BASELINE)" ]; then \
		rm -rf $(BASELINE_VENV)-src && mkdir -p $(BASELINE_VENV)-src && \
		git archive "$(BENCH_BASELINE)" | tar -x -C $(BASELINE_VENV)-src && \
		{ [ -x $(BASELINE_VENV)/bin/python ] || { $(PYTHON) -m venv $(BASELINE_VENV) && \
			$(BASELINE_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt; }; } && \
		$(BASELINE_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps --force-reinstall \
			$(BASELINE_VENV)-src; \
	fi
	$(PY) -m bench.fleet_bench --hosts "$(BENCH_FLEET_K)" --suite-python $(OPERATOR_VENV)/bin/python \
		$(if $(BENCH_BASELINE),--baseline-python $(BASELINE_VENV)/bin/python)
