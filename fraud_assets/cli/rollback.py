"""Roll the served model back (or forward) to any registered version.

    python -m fraud_assets.cli.rollback --list
    python -m fraud_assets.cli.rollback --version 3

Sets the MLflow alias `champion` to that version and serves it: as the newest entry of the BentoML model store, or,
with FRAUD_DATABASE_URL (the team deployment), as a new row of the team database's champion table, which every service
replica polls (each swaps within FRAUD_SERVICE_POLL_SECONDS). Batch scoring and the service pick it up. Uses the same
settings (FRAUD_DATA_DIR, FRAUD_MLFLOW_TRACKING_URI, BENTOML_HOME, FRAUD_DATABASE_URL) as the pipeline.
"""

from __future__ import annotations

import argparse
import sys

from mlflow.tracking import MlflowClient

from fraud_assets.core.settings import Settings
from fraud_assets.defs.resources.model_registry import ARCHIVED_TAG, ModelRegistry


def list_versions(registry: ModelRegistry) -> list[str]:
    client = MlflowClient(registry.tracking_uri)
    champion = registry.champion_version()
    lines = []
    for version in sorted(client.search_model_versions(f"name='{registry.registered_model_name}'"),
                          key=lambda model_version: int(model_version.version)):
        marker = "  <- champion" if str(version.version) == champion else ""
        if ARCHIVED_TAG in version.tags:
            marker += f"  (archived {version.tags[ARCHIVED_TAG].removeprefix('true').strip()})"
        lines.append(f"version {version.version}  run {version.run_id}{marker}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--version", help="the registered version to serve")
    group.add_argument("--list", action="store_true", help="list registered versions")
    args = parser.parse_args(argv)
    registry = ModelRegistry.from_settings(Settings.from_env())
    if args.list:
        print("\n".join(list_versions(registry)) or "no registered versions yet: run the main job first")
        return 0
    try:
        card = registry.promote(args.version)
    except Exception as error:  # MLflow raises its own exception types for unknown versions
        print(f"cannot roll back to version {args.version}: {error}", file=sys.stderr)
        return 2
    print(f"version {card.version} is champion again (threshold {card.threshold:.4f}, window {card.training_window})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
