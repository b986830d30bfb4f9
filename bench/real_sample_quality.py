"""The model's quality on real PaySim rows: two public samples of the Kaggle file, split by time only.

Run by hand, never by CI (about a minute):

    .venv/bin/python bench/real_sample_quality.py

The samples live outside the project, in ../shared/data next to the project folder (see the README there); they are
read in place with `read_paysim_days`, never copied into the project:
- paysim_early_steps_1_119.csv: 51,392 rows, steps 1-119 (days 0-4), 1,392 fraud (50,000 random genuine rows plus
  every fraud row of those steps; labels written 0.0/1.0);
- paysim_random_10k.csv: 10,000 rows over steps 1-741, 500 fraud (9,500 random genuine + 500 random fraud).

Each sample is split by day (time only, never at random): train on the oldest days, choose early stopping and the
threshold on the next days (validation), report on the newest days (test). Features, training and threshold are the
project's: `build_features`, `train_xgboost` (default `XGBoostParams`), `choose_threshold("net_value")` with the
project's default review cost of 200 per alert, on the validation rows as sampled.

Both samples over-represent fraud (2.7% and 5% overall, 45% and 27% in the test days) compared with the real file's
0.13%: AUPRC and precision read much higher on them than at the real rate. So the tables also give the figures with
genuine rows reweighted to the real rate: every genuine row of a part weighs w = n_fraud * (1 - 0.00129) /
(0.00129 * n_genuine), fraud rows weigh 1 (sample_weight in average_precision_score; precision = TP / (TP + w * FP)).
ROC AUC and recall do not depend on the class weights.

"Recall at budget" alerts, on the reweighted test rows, the highest scores up to the project's alert budget: 60 alerts
a day at scale 0.1 (20,525 transactions a day), i.e. 0.29% of the (reweighted) traffic. A genuine row that weighs w
uses w alerts of the budget, as it stands for w real transactions.

Every figure is the median [min-max] over 5 training seeds (the trees subsample rows and columns).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_ingest import machine_description, print_table  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from fraud_assets.core.schema import day_of_step  # noqa: E402
from fraud_assets.core.settings import DEFAULT_ALERTS_PER_1000_TRANSACTIONS  # noqa: E402
from fraud_assets.ml.features import build_features  # noqa: E402
from fraud_assets.ml.thresholds import choose_threshold  # noqa: E402
from fraud_assets.ml.training import XGBoostParams, predict_scores, time_split, train_xgboost  # noqa: E402
from fraud_assets.simulation import SimulationSettings, simulate_days  # noqa: E402
from fraud_assets.simulation.paysim_csv import read_paysim_days  # noqa: E402

SAMPLE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_FRAUD_RATE = 0.00129
PAYSIM_DAYS = 31
ALERT_SHARE = DEFAULT_ALERTS_PER_1000_TRANSACTIONS / 1000  # the project's budget: 0.29% of the traffic
REVIEW_COST_PER_ALERT = 200.0  # the project's default (fraud_model config)
SEEDS = (42, 43, 44, 45, 46)


@dataclass(frozen=True)
class Split:
    """Days (inclusive) of each part."""

    file_name: str
    train_days: tuple[int, int]
    validation_days: tuple[int, int]
    test_days: tuple[int, int]


SPLITS = [
    Split("paysim_early_steps_1_119.csv", train_days=(0, 2), validation_days=(3, 3), test_days=(4, 4)),
    Split("paysim_random_10k.csv", train_days=(0, 13), validation_days=(14, 16), test_days=(17, 30)),
]


def genuine_weight(fraud: np.ndarray) -> float:
    """Weight of each genuine row so that the fraud share of the weighted rows is REAL_FRAUD_RATE."""
    n_fraud, n_genuine = int(fraud.sum()), int((~fraud).sum())
    return n_fraud * (1 - REAL_FRAUD_RATE) / (REAL_FRAUD_RATE * n_genuine)


def metrics_on_test(fraud: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    w = genuine_weight(fraud)
    weights = np.where(fraud, 1.0, w)
    alerted = scores >= threshold
    tp, fp = int((alerted & fraud).sum()), int((alerted & ~fraud).sum())
    order = np.argsort(-scores, kind="stable")
    cumulative = np.cumsum(weights[order])
    within = cumulative <= ALERT_SHARE * weights.sum()
    caught = int(fraud[order][within].sum())
    return {
        "auprc": average_precision_score(fraud, scores),
        "auprc_real": average_precision_score(fraud, scores, sample_weight=weights),
        "roc_auc": roc_auc_score(fraud, scores),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "precision_real": tp / (tp + w * fp) if tp + fp else float("nan"),
        "recall": tp / fraud.sum(),
        "alerts": float(tp + fp),
        "recall_at_budget": caught / fraud.sum(),
        "precision_at_budget_real": caught / cumulative[within][-1] if within.any() else float("nan"),
    }


def evaluate_sample(split: Split) -> tuple[pd.DataFrame, list[dict[str, float]], dict[str, pd.DataFrame], list[str]]:
    path = SAMPLE_DIR / split.file_name
    rows = read_paysim_days(path, 0, PAYSIM_DAYS - 1)
    rows["day"] = day_of_step(rows["step"]).astype(int)
    parts = {
        name: rows[(rows["day"] >= first) & (rows["day"] <= last)].reset_index(drop=True)
        for name, (first, last) in [("train", split.train_days), ("validation", split.validation_days),
                                    ("test", split.test_days)]
    }
    summary = pd.DataFrame([
        {"part": name, "days": f"{days[0]}-{days[1]}", "steps present": f"{part['step'].min()}-{part['step'].max()}",
         "rows": len(part),
         "fraud": int(part["isFraud"].sum()), "fraud share": f"{part['isFraud'].mean():.1%}",
         "genuine weight w": f"{genuine_weight(part['isFraud'].to_numpy() == 1):.1f}"}
        for (name, part), days in zip(parts.items(), [split.train_days, split.validation_days, split.test_days])
    ])
    unused = len(rows) - sum(len(part) for part in parts.values())
    if unused:
        raise SystemExit(f"{unused} rows of {split.file_name} fall in no part: check the split")
    features = {name: build_features(part) for name, part in parts.items()}
    labels = {name: part["isFraud"].to_numpy().astype(np.int8) for name, part in parts.items()}
    results, top_features = [], []
    for seed in SEEDS:
        trained = train_xgboost(features["train"], labels["train"], features["validation"], labels["validation"],
                                XGBoostParams(), seed)
        valid_scores = predict_scores(trained.booster, features["validation"])
        choice = choose_threshold("net_value", valid_scores, labels["validation"],
                                  parts["validation"]["amount"].to_numpy(), parts["validation"]["day"].to_numpy(),
                                  DEFAULT_ALERTS_PER_1000_TRANSACTIONS, REVIEW_COST_PER_ALERT)
        test_scores = predict_scores(trained.booster, features["test"])
        metrics = metrics_on_test(labels["test"] == 1, test_scores, choice.threshold)
        metrics["valid_auprc"] = average_precision_score(labels["validation"], valid_scores)
        metrics["best_iteration"] = float(trained.best_iteration)
        metrics["threshold"] = choice.threshold
        results.append(metrics)
        if seed == SEEDS[0]:
            gains = trained.booster.get_score(importance_type="total_gain")
            top_features = [f"{name} ({gain / sum(gains.values()):.0%})" for name, gain in
                            sorted(gains.items(), key=lambda item: -item[1])[:4]]
    return summary, results, {**parts, "whole file": rows}, top_features


def simulator_model():
    """The project's own setting: a model trained on the simulator (default scale 0.1, days 0-11, validated on days
    12-14, as the main job's first model), with the default alert_budget threshold (60 alerts a day there)."""
    rows = simulate_days(0, 14, SimulationSettings(seed=42, scale=0.1))
    days = day_of_step(rows["step"]).to_numpy()
    labels = rows["isFraud"].to_numpy().astype(np.int8)
    features = build_features(rows)
    train, valid = time_split(days, 3)
    trained = train_xgboost(features[train], labels[train], features[valid], labels[valid], XGBoostParams(), 42)
    valid_scores = predict_scores(trained.booster, features[valid])
    choice = choose_threshold("alert_budget", valid_scores, labels[valid], rows["amount"].to_numpy()[valid],
                              days[valid], DEFAULT_ALERTS_PER_1000_TRANSACTIONS, REVIEW_COST_PER_ALERT)
    return trained, choice, len(rows), int(labels.sum())


ROWS = [
    ("best iteration", "best_iteration", "{:.0f}"),
    ("validation AUPRC (as sampled)", "valid_auprc", "{:.3f}"),
    ("test AUPRC, as sampled", "auprc", "{:.3f}"),
    ("test AUPRC, genuine reweighted to the real 0.129%", "auprc_real", "{:.3f}"),
    ("test ROC AUC", "roc_auc", "{:.4f}"),
    ("net_value threshold (chosen on validation)", "threshold", "{:.3g}"),
    ("  alerts on the test rows", "alerts", "{:.0f}"),
    ("  precision, as sampled", "precision", "{:.3f}"),
    ("  precision, genuine reweighted to the real rate", "precision_real", "{:.3f}"),
    ("  recall", "recall", "{:.3f}"),
    ("recall at budget (0.29% of reweighted traffic)", "recall_at_budget", "{:.3f}"),
    ("  precision at budget, real rate", "precision_at_budget_real", "{:.3f}"),
]


def spread(values: list[float], fmt: str) -> str:
    values = [v for v in values if not np.isnan(v)]
    if not values:
        return "nan"
    median = fmt.format(float(np.median(values)))
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return median if low == high else f"{median} [{low}-{high}]"


def main() -> int:
    missing = [split.file_name for split in SPLITS if not (SAMPLE_DIR / split.file_name).is_file()]
    if missing:
        print(f"The real PaySim samples are not there: {', '.join(missing)} missing in {SAMPLE_DIR}.\n"
              "This script reads them in place from ../shared/data next to the project folder (never copy them into "
              "the project); without them there is nothing to measure.", file=sys.stderr)
        return 2
    print("# real_sample_quality: the project's model trained and tested on real PaySim rows (time split)\n")
    print("\n".join(machine_description()))
    print(f"samples     {SAMPLE_DIR}\n")
    real_parts = {}
    for split in SPLITS:
        summary, results, parts, top_features = evaluate_sample(split)
        real_parts[split.file_name] = parts
        print(f"## {split.file_name}: trained on its own older days\n")
        print_table(list(summary.columns), summary.values.tolist())
        print(f"\nTest figures, median [min-max] over seeds {SEEDS[0]}-{SEEDS[-1]}. The sample over-represents fraud: "
              "'as sampled' figures read higher than at the real 0.129%.\n")
        print_table(["measure", "value"], [[label, spread([r[key] for r in results], fmt)] for label, key, fmt in ROWS])
        print(f"\nfeatures by total gain (seed {SEEDS[0]}): {', '.join(top_features)}\n", flush=True)

    trained, choice, sim_rows, sim_fraud = simulator_model()
    print(f"## For comparison: the model trained on the simulator ({sim_rows:,} rows, {sim_fraud:,} fraud: scale 0.1, "
          f"days 0-11, validated on 12-14; best iteration {trained.best_iteration}; alert_budget threshold "
          f"{choice.threshold:.3g} = 60 alerts/day), scored on the real rows\n")
    table = []
    for file_name, parts in real_parts.items():
        for part_name in ("test", "whole file"):
            part = parts[part_name]
            fraud = part["isFraud"].to_numpy() == 1
            metrics = metrics_on_test(fraud, predict_scores(trained.booster, build_features(part)), choice.threshold)
            table.append([f"{file_name} {part_name}", f"{len(part):,} / {int(fraud.sum()):,}",
                          f"{metrics['auprc']:.3f}", f"{metrics['auprc_real']:.3f}", f"{metrics['roc_auc']:.4f}",
                          f"{metrics['precision_real']:.3f}", f"{metrics['recall']:.3f}",
                          f"{metrics['recall_at_budget']:.3f}"])
    print_table(["rows scored", "rows / fraud", "AUPRC as sampled", "AUPRC real rate", "ROC AUC",
                 "precision real rate", "recall", "recall at budget"], table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
