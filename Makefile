# The README's two commands are `make run` (set up, then the main job) and `make test` (set up, then the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
DAGSTER_PORT ?= 3000

.PHONY: setup run test dev bench clean-data

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m fraud_assets.main_job

test: $(STAMP)
	$(BIN)/python -m pytest

dev: $(STAMP)
	DAGSTER_HOME=$$($(BIN)/python -m fraud_assets.instance) $(BIN)/dagster dev -h 127.0.0.1 -p $(DAGSTER_PORT)

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py

clean-data:
	rm -rf $(DATA_DIR)
