# The README's two commands are `make run` (set up, then the main job) and `make test` (set up, then the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
# Ports: `make up DAGSTER_PORT=3100` or the environment variables of the README (FRAUD_DAGSTER_PORT, ...).
DAGSTER_PORT ?= $(or $(FRAUD_DAGSTER_PORT),3000)
SERVICE_PORT ?= $(or $(FRAUD_SERVICE_PORT),3001)
LABEL_APP_PORT ?= $(or $(FRAUD_LABEL_APP_PORT),7860)
MLFLOW_PORT ?= $(or $(FRAUD_MLFLOW_PORT),5000)

.PHONY: setup run test up dev serve label-app mlflow-ui clean-data postgres-package

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m fraud_assets.cli.run_pipeline

# The linter and the import contracts (pyproject.toml) first, then the suite.
test: $(STAMP) postgres-package
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# Every service at once (Dagster UI and daemon, scoring service, label app, MLflow UI); Ctrl-C stops them all.
up: $(STAMP)
	$(BIN)/python -m fraud_assets.cli.up --dagster-port $(DAGSTER_PORT) --service-port $(SERVICE_PORT) \
		--label-app-port $(LABEL_APP_PORT) --mlflow-port $(MLFLOW_PORT)

dev: $(STAMP)
	home=$$($(BIN)/python -m fraud_assets.cli.instance) && DAGSTER_HOME=$$home $(BIN)/dagster dev -h 127.0.0.1 -p $(DAGSTER_PORT)

serve: $(STAMP)
	BENTOML_HOME=$${BENTOML_HOME:-$(DATA_DIR)/bentoml} $(BIN)/bentoml serve bento.service:FraudScoring --host 127.0.0.1 --port $(SERVICE_PORT)

label-app: $(STAMP)
	$(BIN)/python -m label_app --port $(LABEL_APP_PORT)

# The MLflow UI over data/mlflow.db; in the team deployment (FRAUD_DATABASE_URL) the tracking server itself.
mlflow-ui: $(STAMP)
	$(BIN)/python -m fraud_assets.cli.mlflow_server --port $(MLFLOW_PORT)

clean-data:
	rm -rf $(DATA_DIR)

# The PostgreSQL tests start throwaway servers from Debian's postgresql package: install it where it is missing (as
# root, as CI runs); otherwise those tests skip and say why.
postgres-package:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| [ -n "$$FRAUD_POSTGRES_BIN" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's postgresql package for the PostgreSQL tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL is not installed: the PostgreSQL tests will skip (apt-get install postgresql)"; \
	fi
