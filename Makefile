# Every target bootstraps .venv on first use: a fresh clone needs only python3 and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/demo-two-accounts.yaml
IMPL ?= refactored
PYTEST_WORKERS ?= 2
# The SDK matrix (`make test-sdk SDK=old|new`): the project in a venv of its own with boto3/botocore overridden.
# old: the 1.34.x an older python3.12 Lambda runtime carries; new: the newest release the package index serves.
SDK ?= old
SDK_PINS_old := boto3==1.34.145 botocore==1.34.145
SDK_PINS_new :=
SDK_PACKAGES := boto3|botocore|s3transfer
SDK_VENV = .venv-sdk-$(SDK)

.PHONY: help venv test lint format coverage world sync gate goldens bench bench-harness mutation package sdk-venv \
	test-sdk sdk-matrix clean

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
	$(PY) -m coverage report --include="lambda/query-handler/inventory_sync/*" --show-missing --fail-under=90

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

mutation: $(STAMP) ## Mutation testing of the inventory_sync package (every module) with the gate as the suite (mutation/report.md, results.json; not a test)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[mutation]"
	$(PY) -m harness.mutation

world: $(STAMP) ## Serve SCENARIO as a local AWS on 127.0.0.1 until Ctrl-C
	$(PY) -m harness world serve --scenario $(SCENARIO)

package: $(STAMP) ## Build the Lambda deployment package dist/query-handler.zip (reproducible; see deploy/build_lambda.py)
	$(PY) deploy/build_lambda.py

# The constraints of the SDK venv: constraints.txt without its boto3/botocore/s3transfer pins, plus the SDK's pins
# (none for `new`: pip takes the newest), then the versions pip chose, for the package the venv builds.
.venv-sdk-%/.installed: pyproject.toml constraints.txt
	$(if $(filter old new,$*),,$(error SDK must be old or new, not '$*'))
	rm -rf .venv-sdk-$*
	$(PYTHON) -m venv .venv-sdk-$*
	.venv-sdk-$*/bin/python -m pip install --quiet --upgrade pip
	grep -vE '^($(SDK_PACKAGES))==' constraints.txt > .venv-sdk-$*/constraints-base.txt
	for pin in $(SDK_PINS_$*); do echo "$$pin" >> .venv-sdk-$*/constraints-base.txt; done
	.venv-sdk-$*/bin/python -m pip install --quiet -c .venv-sdk-$*/constraints-base.txt -e ".[dev]"
	{ grep -vE '^($(SDK_PACKAGES))==' .venv-sdk-$*/constraints-base.txt; \
	  .venv-sdk-$*/bin/python -m pip freeze | grep -iE '^($(SDK_PACKAGES))=='; } > .venv-sdk-$*/constraints.txt
	touch $@

sdk-venv: $(SDK_VENV)/.installed ## Create .venv-sdk-$(SDK) (SDK=old: boto3/botocore 1.34.145; SDK=new: the newest)

test-sdk: $(SDK_VENV)/.installed ## Unit tests, the package test and the gate on SDK=old|new (its own venv)
	$(SDK_VENV)/bin/python -c 'import boto3, botocore; print("SDK=$(SDK): boto3", boto3.__version__, "botocore", botocore.__version__)'
	$(SDK_VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider tests/unit
	BUILD_LAMBDA_CONSTRAINTS=$(SDK_VENV)/constraints.txt $(SDK_VENV)/bin/python -m pytest -p no:cacheprovider \
		tests/integration/test_package.py
	$(SDK_VENV)/bin/python -m harness gate --impl refactored --report gate-report-sdk-$(SDK).md

sdk-matrix: ## test-sdk for SDK=old, then SDK=new
	$(MAKE) test-sdk SDK=old
	$(MAKE) test-sdk SDK=new

clean: ## Remove the venvs, caches and the built package
	rm -rf $(VENV) .venv-sdk-old .venv-sdk-new .pytest_cache .mypy_cache .ruff_cache dist build/query-handler
