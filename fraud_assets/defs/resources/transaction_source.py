"""Where raw transactions come from: the PaySim-calibrated simulator (default) or the real PaySim CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Literal

import dagster as dg
import pandas as pd

from fraud_assets.core.settings import Settings
from fraud_assets.simulation import simulate_day
from fraud_assets.simulation.paysim_csv import (
    check_paysim_csv,
    count_rows_without_step,
    paysim_day_files,
    read_paysim_days,
)
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

    def iter_days(self, first_day: int, last_day: int) -> Iterator[tuple[int, pd.DataFrame]]:
        """(day, rows of the day in the PaySim schema) for days first_day..last_day, one day in memory at a time
        (the CSV is queried a day at a time: a scan of the file per day, in exchange for memory of one day; a folder
        of day files reads each day's file only)."""
        settings = self.simulation_settings() if self.kind == "simulator" else None
        for day in range(first_day, last_day + 1):
            if settings is None:
                yield day, read_paysim_days(self.paysim_csv_path, day, day)
            else:
                yield day, simulate_day(day, settings)

    def description(self) -> dict[str, str | float | int]:
        """What the source is, for materialization metadata."""
        if self.kind == "paysim_csv":
            path = check_paysim_csv(self.paysim_csv_path)
            if path.is_dir():  # one file per day: no scan of the days already ingested
                return {"source": "paysim_csv", "path": str(path), "day_files": len(paysim_day_files(path))}
            return {"source": "paysim_csv", "path": str(path), "rows_without_step": count_rows_without_step(path)}
        simulation = asdict(self.simulation_settings())
        del simulation["num_days"]
        return {"source": "simulator", **simulation}
