"""What importing the service loads, in a fresh process: none of the pipeline's heavy libraries, and exactly the
project modules that bento/bentofile.yaml packs into the Bento."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from fraud_assets_tests.bento.conftest import REPOSITORY_ROOT

PIPELINE_ONLY = ("dagster", "mlflow", "evidently")  # top-level names; dagster_* integrations included


def test_importing_the_service_loads_neither_dagster_nor_mlflow_nor_evidently(service_imports):
    assert {"bento.service", "xgboost"} <= service_imports.modules  # the probe did import the service
    loaded = sorted({name.split(".")[0] for name in service_imports.modules if name.startswith(PIPELINE_ONLY)})
    assert loaded == [], f"importing bento.service loads {loaded}: the service imports fraud_assets.core and .ml only"


def test_the_bentofile_includes_exactly_the_project_modules_the_service_imports(service_imports):
    bentofile = yaml.safe_load((REPOSITORY_ROOT / "bento" / "bentofile.yaml").read_text())
    included = {path.relative_to(REPOSITORY_ROOT).as_posix()
                for pattern in bentofile["include"] for path in REPOSITORY_ROOT.glob(pattern)}
    assert sorted(service_imports.project_files - included) == [], "imported by the service, not packed"
    assert sorted(included - service_imports.project_files) == [], "packed, not imported by the service"


def test_bento_is_a_package_of_the_installed_distribution(tmp_path):
    """`import bento.service` works from any folder, not only from the repository root (where the current directory
    on sys.path would hide a missing package)."""
    probe = "import bento.service, sys; print(bento.service.__file__); print(sys.path[0] or '(cwd)')"
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=environment, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.splitlines()[0]).resolve() == REPOSITORY_ROOT / "bento" / "service.py"
