"""`bentoml build` with bento/bentofile.yaml packs the service, the feature code and the champion into a Bento."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from fraud_assets_tests.bento.conftest import REPOSITORY_ROOT, service_env


def uv_available() -> bool:
    if shutil.which("uv") or Path(sys.executable).with_name("uv").exists():
        return True
    try:
        importlib.metadata.version("uv")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.mark.skipif(not uv_available(), reason="bentoml build needs uv (BentoML would pip-install it into the venv); "
                                               "install it with `pip install uv` to run this test")
def test_bentoml_build_packs_the_service_the_feature_code_and_the_champion(tmp_path, trained_champion,
                                                                          service_imports):
    home = tmp_path / "bentoml"
    tag = trained_champion.save(home, "1")
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    env = {**os.environ, **service_env(home, tmp_path / "data"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    built = subprocess.run([bentoml, "build", "-f", "bento/bentofile.yaml", "--output", "tag", "."],
                           cwd=REPOSITORY_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    # The version folder (the "latest" beside it is a file; a version may start with "l" too).
    (bento_dir,) = [path for path in (home / "bentos" / "fraud_scoring").iterdir() if path.is_dir()]
    info = yaml.safe_load((bento_dir / "bento.yaml").read_text())
    assert info["service"] == "bento.service:FraudScoring"
    assert [model["tag"] for model in info["models"]] == [tag]  # fraud_model:latest, pinned to the exact version
    for source in ("bento/service.py", "bento/contract.py", "bento/model_holder.py", "fraud_assets/ml/features.py",
                   "fraud_assets/core/served_models.py"):
        assert (bento_dir / "src" / source).is_file(), source
    # Exactly the Python files the service imports: no tests, and none of Dagster's side (defs/, cli/).
    packed = {path.relative_to(bento_dir / "src").as_posix() for path in (bento_dir / "src").rglob("*.py")}
    assert packed == service_imports.project_files

    exported = tmp_path / "fraud_scoring.bento"
    result = subprocess.run([bentoml, "export", "fraud_scoring:latest", str(exported)], cwd=REPOSITORY_ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    with tarfile.open(exported) as archive:
        names = archive.getnames()
    model_version = tag.split(":")[1]
    assert any(name.endswith(f"models/fraud_model/{model_version}/booster.json") for name in names), names[:20]
