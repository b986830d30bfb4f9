"""Typed resources: where transactions come from and where the warehouse lives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import dagster as dg
import pandas as pd

from fraud_assets.label_store import read_latest_labels
from fraud_assets.simulation import SimulationSettings, simulate_days
from fraud_assets.simulation.paysim_csv import check_paysim_csv, count_rows_without_step, read_paysim_days


class TransactionSource(dg.ConfigurableResource):
    """Where raw transactions come from: the PaySim-calibrated simulator (default) or the real PaySim CSV."""

    kind: Literal["simulator", "paysim_csv"] = "simulator"
    paysim_csv_path: str = ""
    seed: int = 42
    scale: float = 0.1
    num_days: int = 31
    volume_profile: str = "steady"
    scenario: str = "none"
    drift_start_day: int = 20
    drift_strength: float = 1.0

    def simulation_settings(self) -> SimulationSettings:
        return SimulationSettings(
            seed=self.seed,
            scale=self.scale,
            num_days=self.num_days,
            volume_profile=self.volume_profile,
            scenario=self.scenario,
            drift_start_day=self.drift_start_day,
            drift_strength=self.drift_strength,
        )

    def load_days(self, first_day: int, last_day: int, on_day: Callable[[int, int], None] | None = None) -> pd.DataFrame:
        """Rows of days first_day..last_day (inclusive) in the PaySim schema; `on_day(day, rows)` after each day
        (the CSV is read in one pass, so its days are reported together at the end)."""
        if self.kind == "paysim_csv":
            rows = read_paysim_days(self.paysim_csv_path, first_day, last_day)
            if on_day is not None:
                counts = ((rows["step"] - 1) // 24).value_counts()
                for day in range(first_day, last_day + 1):
                    on_day(day, int(counts.get(day, 0)))
            return rows
        return simulate_days(first_day, last_day, self.simulation_settings(), on_day)

    def description(self) -> dict[str, str | float | int]:
        """What the source is, for materialization metadata."""
        if self.kind == "paysim_csv":
            path = check_paysim_csv(self.paysim_csv_path)
            return {"source": "paysim_csv", "path": str(path), "rows_without_step": count_rows_without_step(path)}
        return {
            "source": "simulator",
            "seed": self.seed,
            "scale": self.scale,
            "volume_profile": self.volume_profile,
            "scenario": self.scenario,
            "drift_start_day": self.drift_start_day,
            "drift_strength": self.drift_strength,
        }


class AppExports(dg.ConfigurableResource):
    """The folder of Parquet exports the label app reads (`data/exports` by default)."""

    exports_dir: str

    @property
    def path(self) -> Path:
        return Path(self.exports_dir)


class DriftReports(dg.ConfigurableResource):
    """Where the Evidently HTML reports go (`data/reports` by default)."""

    reports_dir: str

    def save(self, snapshot, day: int) -> Path:
        """Save a report's HTML as drift_report_day_NNN.html, through a temporary name and a rename."""
        folder = Path(self.reports_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"drift_report_day_{day:03d}.html"
        temporary = folder / f".{path.name}.tmp"
        snapshot.save_html(str(temporary))
        temporary.replace(path)
        return path.resolve()


class LabelStore(dg.ConfigurableResource):
    """Analyst label events in SQLite at `path` (see fraud_assets/label_store.py)."""

    path: str

    def latest_labels(self) -> pd.DataFrame:
        """The current analyst label of every labeled transaction (REVIEWED_LABEL_COLUMNS)."""
        return read_latest_labels(self.path)
