from __future__ import annotations

import pandas as pd
import pytest

from fraud_assets.core.schema import PAYSIM_COLUMNS
from fraud_assets.simulation.paysim_csv import PaySimCsvError, count_rows_without_step, read_paysim_days


def test_reads_one_day_of_the_real_sample(early_steps_csv):
    day = read_paysim_days(early_steps_csv, 2, 2)
    everything = pd.read_csv(early_steps_csv)
    expected = everything[(everything["step"] >= 49) & (everything["step"] <= 72)]
    assert list(day.columns) == PAYSIM_COLUMNS
    assert len(day) == len(expected) > 300
    assert day["step"].between(49, 72).all()
    # labels written as 0.0/1.0 in this file come back as numbers
    assert day["isFraud"].sum() == expected["isFraud"].sum() > 0
    assert day["amount"].sum() == pytest.approx(expected["amount"].sum())


def test_range_of_days_equals_the_days_read_one_by_one(random_10k_csv):
    together = read_paysim_days(random_10k_csv, 0, 9)
    one_by_one = pd.concat([read_paysim_days(random_10k_csv, d, d) for d in range(10)], ignore_index=True)
    key = ["step", "nameOrig", "amount"]
    pd.testing.assert_frame_equal(
        together.sort_values(key).reset_index(drop=True), one_by_one.sort_values(key).reset_index(drop=True)
    )
    assert together["step"].max() <= 240


def test_bad_values_become_missing_not_a_failed_read(tmp_path):
    csv = tmp_path / "paysim.csv"
    csv.write_text(
        ",".join(PAYSIM_COLUMNS) + "\n"
        "1,PAYMENT,100.5,C1,200,99.5,M2,0,0,0,0\n"
        "1,TRANSFER,abc,C3,200,0,C4,0,0,1,0\n"
        "x,CASH_IN,5,C5,0,5,C6,0,0,0,0\n"
    )
    rows = read_paysim_days(csv, 0, 0)
    assert len(rows) == 2
    assert rows["amount"].isna().tolist() == [False, True]
    assert count_rows_without_step(csv) == 1


def test_wrong_header_and_missing_file_say_what_is_wrong(tmp_path):
    csv = tmp_path / "other.csv"
    csv.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(PaySimCsvError, match="does not have PaySim's header"):
        read_paysim_days(csv, 0, 0)
    with pytest.raises(PaySimCsvError, match="FRAUD_PAYSIM_CSV"):
        read_paysim_days(tmp_path / "absent.csv", 0, 0)


def write_day_folder(folder, days: range):
    from fraud_assets.simulation import SimulationSettings, simulate_day

    folder.mkdir(exist_ok=True)
    written = {}
    for day in days:
        rows = simulate_day(day, SimulationSettings(scale=0.002))[PAYSIM_COLUMNS]
        rows.to_csv(folder / f"day={day:03d}.csv", index=False)
        written[day] = rows
    return written


def test_a_folder_of_day_files_reads_only_the_days_asked_for(tmp_path):
    folder = tmp_path / "arriving"
    written = write_day_folder(folder, range(3))
    (folder / "day=000.csv").write_text("not,a,paysim,header\n")  # never opened for day 1 or 2
    day_one = read_paysim_days(folder, 1, 2)
    expected = pd.concat([written[1], written[2]], ignore_index=True)
    assert len(day_one) == len(expected) > 0
    assert day_one["amount"].sum() == pytest.approx(expected["amount"].sum())
    with pytest.raises(PaySimCsvError, match="does not have PaySim's header"):
        read_paysim_days(folder, 0, 0)
    assert count_rows_without_step(folder) == 0


def test_a_day_that_has_not_arrived_or_a_file_with_another_days_rows_is_a_clear_error(tmp_path):
    folder = tmp_path / "arriving"
    written = write_day_folder(folder, range(2))
    with pytest.raises(PaySimCsvError, match=r"no file day=005.csv .* not arrived yet \(the folder's newest day is 1"):
        read_paysim_days(folder, 5, 5)
    misfiled = pd.concat([written[1], written[0].head(3)], ignore_index=True)
    misfiled.to_csv(folder / "day=001.csv", index=False)
    with pytest.raises(PaySimCsvError, match=r"day=001.csv: 3 of its \d+ rows have a step outside day 1"):
        read_paysim_days(folder, 1, 1)
