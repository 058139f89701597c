# Every target bootstraps .venv on first use: a fresh clone needs only python3 and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/demo-two-accounts.yaml
IMPL ?= refactored
PYTEST_WORKERS ?= 2

.PHONY: help venv test lint format coverage world sync gate goldens bench bench-harness mutation package clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,bench,mutation]"
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the project with its dev, bench and mutation extras

test: $(STAMP) ## Run the whole suite (parallel)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider

coverage: $(STAMP) ## Line and branch coverage of the refactored sync by its unit tests (fails below 90%)
	rm -f .coverage .coverage.*
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider -q tests/unit \
		--cov=lambda/query-handler --cov-branch --cov-report=
	$(PY) -m coverage report --include="lambda/query-handler/inventory_sync.py" --show-missing --fail-under=90

lint: $(STAMP) ## ruff, mypy and cfn-lint (template.yaml)
	$(VENV)/bin/ruff check harness lambda tests deploy
	$(VENV)/bin/ruff format --check harness lambda tests deploy
	$(VENV)/bin/mypy harness lambda/shared lambda/query-handler deploy
	$(VENV)/bin/cfn-lint template.yaml

format: $(STAMP) ## Apply ruff's formatter and autofixes
	$(VENV)/bin/ruff format harness lambda tests deploy
	$(VENV)/bin/ruff check --fix harness lambda tests deploy

gate: $(STAMP) ## Replay every golden into IMPL (default refactored) and print the verdicts
	$(PY) -m harness gate --impl $(IMPL) --report gate-report.md

goldens: $(STAMP) ## Record missing or stale goldens from the legacy (scenario or legacy changed)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/harness/test_goldens.py --golden-update -q

sync: $(STAMP) ## Run the Lambda handler over HTTP against SCENARIO served as a local AWS
	$(PY) -m harness sync --scenario $(SCENARIO)

bench: $(STAMP) ## Legacy vs refactored replayed with AWS latency under Lambda's CPU share of 128-3,008 MB: time, cost, recommended memory, growth, memory at 50,000 (bench/results.json, timeline.png, memory.png; not a test)
	$(PY) -m harness.bench

bench-harness: $(STAMP) ## Legacy on the local AWS vs replayed from its golden (2,000 servers); prints the ratio
	$(PY) -m harness.bench_harness

mutation: $(STAMP) ## Mutation testing of inventory_sync.py with the gate as the suite (mutation/report.md, results.json; not a test)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[mutation]"
	$(PY) -m harness.mutation

world: $(STAMP) ## Serve SCENARIO as a local AWS on 127.0.0.1 until Ctrl-C
	$(PY) -m harness world serve --scenario $(SCENARIO)

package: $(STAMP) ## Build the Lambda deployment package dist/query-handler.zip (reproducible; see deploy/build_lambda.py)
	$(PY) deploy/build_lambda.py

clean: ## Remove the venv, caches and the built package
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build/query-handler
