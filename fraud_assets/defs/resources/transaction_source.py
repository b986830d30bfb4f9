"""Where raw transactions come from: the PaySim-calibrated simulator (default) or the real PaySim CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Literal

import dagster as dg
import pandas as pd

from fraud_assets.core.settings import Settings
from fraud_assets.simulation import simulate_days
from fraud_assets.simulation.paysim_csv import check_paysim_csv, count_rows_without_step, read_paysim_days
from fraud_assets.simulation.settings import SimulationSettings

SIMULATION_DEFAULTS = SimulationSettings()


class TransactionSource(dg.ConfigurableResource):
    """Where raw transactions come from: the PaySim-calibrated simulator (default) or the real PaySim CSV."""

    kind: Literal["simulator", "paysim_csv"] = "simulator"
    paysim_csv_path: str = ""
    # The simulator's settings, with SimulationSettings' names and defaults (its validation applies on use).
    seed: int = SIMULATION_DEFAULTS.seed
    scale: float = SIMULATION_DEFAULTS.scale
    num_days: int = SIMULATION_DEFAULTS.num_days
    volume_profile: str = SIMULATION_DEFAULTS.volume_profile
    scenario: str = SIMULATION_DEFAULTS.scenario
    drift_start_day: int = SIMULATION_DEFAULTS.drift_start_day
    drift_strength: float = SIMULATION_DEFAULTS.drift_strength

    @classmethod
    def from_settings(cls, settings: Settings) -> TransactionSource:
        return cls(kind=settings.source, paysim_csv_path=settings.paysim_csv_path, **asdict(settings.simulation))

    def simulation_settings(self) -> SimulationSettings:
        return SimulationSettings(**{item.name: getattr(self, item.name) for item in fields(SimulationSettings)})

    def load_days(self, first_day: int, last_day: int,
                  on_day: Callable[[int, int], None] | None = None) -> pd.DataFrame:
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
        simulation = asdict(self.simulation_settings())
        del simulation["num_days"]
        return {"source": "simulator", **simulation}
