"""What loading the code location costs: `import fraud_assets.definitions` in a fresh interpreter, for this tree and
for a baseline tree (a git worktree of an older commit), alternating, in the same run.

    git worktree add /tmp/baseline c44b03f
    .venv/bin/python bench/bench_definitions_import.py --baseline /tmp/baseline --runs 7

Every run process, every code-server load, each of the main job's child processes and every test process pays this
cost. Each measurement is a fresh `python -c "import fraud_assets.definitions"` with the tree's folder first on
sys.path, FRAUD_DATA_DIR in a temporary folder and warnings off; the script prints each tree's median, the ratio of
the medians, and which heavy libraries each tree loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ingest import machine_description

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("evidently", "mlflow", "matplotlib", "dagster", "xgboost", "sklearn", "bentoml")
PROBE = ("import sys; sys.path.insert(0, sys.argv[1]); import fraud_assets.definitions; "
         "print(','.join(name for name in sys.argv[2].split(',') if name in sys.modules))")


def import_once(tree: Path, data_dir: str) -> tuple[float, str]:
    """Seconds of one fresh interpreter importing the definitions of `tree`, and the heavy modules it loaded."""
    environment = {**os.environ, "FRAUD_DATA_DIR": data_dir, "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROBE, str(tree), ",".join(HEAVY)], env=environment,
                            capture_output=True, text=True, check=True, cwd=tree)
    return time.perf_counter() - started, result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a worktree of the commit to compare with")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    trees = {"this tree": PROJECT_ROOT, "baseline": args.baseline.resolve()}
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    loaded: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        for name, tree in trees.items():  # one warm-up each: the first import after a change compiles bytecode
            import_once(tree, data_dir)
        for _ in range(args.runs):
            for name, tree in trees.items():
                elapsed, modules = import_once(tree, data_dir)
                seconds[name].append(elapsed)
                loaded[name] = modules
    print("\n".join(machine_description()))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    for name in trees:
        runs = ", ".join(f"{value:.2f}" for value in seconds[name])
        print(f"{name}: median {medians[name]:.2f} s ({runs}); loads {loaded[name]}")
    print(f"ratio this tree / baseline: {medians['this tree'] / medians['baseline']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
