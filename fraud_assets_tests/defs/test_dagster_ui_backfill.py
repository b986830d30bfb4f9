"""Backfills launched the way the Dagster UI launches them work, and the warehouse pool serializes their writers.

The test starts the real `dagster-webserver` and `dagster-daemon run` on a temporary DAGSTER_HOME written by
`prepare_dagster_home`, with the starter of `make up` (`fraud_assets.cli.up`: ready once the code location is loaded and
the daemons are healthy), then talks to them only through the webserver's GraphQL API, as the UI does:

- it launches TWO asset backfills at once with `launchPartitionBackfill` (an `assetSelection` and a list of
  `partitionNames`, the payload of the UI's "Materialize" -> backfill dialog) over disjoint day ranges of the ingest
  assets, then, once they are done, a backfill of `drift_report` over all their days. The daemon is started after
  the two ingest backfills are requested, so that its first iteration submits both runs together: with the daemon
  already running, the two could fall on either side of an iteration (30 s apart), the first run could end before
  the second existed, and the pool would have had nothing to keep apart;
- it waits until the backfill daemon reports each backfill `COMPLETED_SUCCESS`;
- it asserts that every selected asset has a materialization for every day, each backfill's days coming from a
  single run (the single-run backfill policy), that every asset check on those assets recorded one passed
  evaluation per day (`report_daily_results`), that every run succeeded, and that no two steps of the
  `duckdb_warehouse` pool overlapped in time although both ingest runs existed together (the second was queued
  before the first ended, and the queue launches up to 4 runs): without the pool limit of 1 they would contend for
  the DuckDB file, which one process can hold at a time (a writer holding it longer than the IO manager's ~100 s of
  connection retries fails the other). The limit works at two places, and either may be the one that acts: the
  queue holds a run whose first warehouse step would find the pool full, and a run in flight waits for the slot
  before each warehouse step;
- after stopping the servers, it reads the warehouse file: each day has rows, raw = cleaned + rejected, and each
  day with an earlier day has a drift report.

`drift_report` gets a backfill of its own: selected together with `cleaned_transactions`, Dagster targets every
partition downstream of the selected days through its 7-day look-back mapping, i.e. 7 more days with no
transactions, whose empty reports and vacuously passing checks would prove nothing. On its own, over days that
are ingested, every day is compared with the preceding days (no champion model yet) and day 0, which has none,
records a passing check that says so: every asset and check of the range can legitimately succeed.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
import requests
import yaml

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.cli.up import (
    ManagedService,
    StartupError,
    UpSettings,
    build_services,
    log_tail,
    service_environment,
    start,
    stop_all,
    wait_until_ready,
)
from fraud_assets.core.settings import Settings
from fraud_assets.defs.partitions import day_of_partition_key, partition_key_of_day

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_POOL = "duckdb_warehouse"
SIMULATION_SCALE = "0.01"

INGEST_ASSETS = ["raw_transactions", "cleaned_transactions", "rejected_transactions"]
MONITORING_ASSETS = ["drift_report"]
SELECTED_ASSETS = [*INGEST_ASSETS, *MONITORING_ASSETS]
EXPECTED_CHECKS = {
    "cleaned_transactions": {
        "cleaned_transactions_contract_check",
        "cleaned_transactions_rejected_share_check",
        "cleaned_transactions_row_count_check",
    },
    "drift_report": {"drift_report_feature_drift_check"},
}
FIRST_RANGE = [partition_key_of_day(day) for day in range(3)]  # 2025-01-01..2025-01-03
SECOND_RANGE = [partition_key_of_day(day) for day in range(3, 6)]  # 2025-01-04..2025-01-06
ALL_KEYS = FIRST_RANGE + SECOND_RANGE

# Generous: a busy 2-core machine; a run imports the whole project (Evidently, MLflow, BentoML) before its first step.
STARTUP_TIMEOUT_SECONDS = 300
INGEST_BACKFILLS_TIMEOUT_SECONDS = 900
MONITORING_BACKFILL_TIMEOUT_SECONDS = 600
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId launchedRunIds }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on InvalidSubsetError { message }
    ... on PythonError { message stack }
  }
}
"""

INSTANCE = """
query Instance($pool: String) {
  instance {
    poolConfig { poolGranularity defaultPoolLimit }
    concurrencyLimit(concurrencyKey: $pool) { concurrencyKey limit slotCount usingDefaultLimit }
    daemonHealth { allDaemonStatuses { daemonType required healthy } }
  }
}
"""

ASSET_NODES = """
query AssetNodes($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    opNames
    pools
    isPartitioned
    backfillPolicy { policyType }
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking } }
    }
  }
}
"""

BACKFILL = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {
      id
      status
      numPartitions
      partitionNames
      assetSelection { path }
      error { message stack }
      runs {
        runId
        status
        creationTime
        startTime
        endTime
        assetSelection { path }
        tags { key value }
        stepStats { stepKey status startTime endTime }
      }
    }
    ... on BackfillNotFoundError { message }
    ... on PythonError { message stack }
  }
}
"""

CHECK_PARTITION_STATUSES = """
query CheckPartitionStatuses($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    assetChecksOrError {
      ... on AssetChecks {
        checks {
          name
          partitionStatuses {
            __typename
            ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
          }
        }
      }
    }
  }
}
"""

RUN_EVENTS = """
query RunEvents($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      eventConnection(limit: 10000) {
        events {
          __typename
          ... on MessageEvent { message level stepKey }
          ... on ErrorEvent { error { message stack } }
        }
      }
    }
  }
}
"""

MATERIALIZATIONS = """
query Materializations($assetKey: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $assetKey) {
    __typename
    ... on Asset { assetMaterializations(partitions: $partitions) { partition runId } }
  }
}
"""

CHECK_EXECUTIONS = """
query CheckExecutions($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 1000) {
    runId
    status
    partition
    evaluation {
      success
      partition
      metadataEntries {
        label
        ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue }
        ... on TextMetadataEntry { text }
      }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DagsterServices:
    """The webserver and the daemon on one DAGSTER_HOME, started and stopped by `fraud_assets.cli.up`.

    The fixture starts the webserver; the test starts the daemon (`start_daemon`) when it wants runs to be launched.
    """

    settings: Settings
    dagster_home: Path
    port: int
    managed: list[ManagedService]
    logs_dir: Path
    stopped: bool = False

    def started(self) -> list[ManagedService]:
        return [service for service in self.managed if service.process is not None]

    def start_daemon(self) -> None:
        daemon = [service for service in self.managed if service.name == "dagster-daemon"]
        start(daemon[0], service_environment(self.settings), self.logs_dir)
        try:
            wait_until_ready(daemon, STARTUP_TIMEOUT_SECONDS)
        except StartupError as error:
            pytest.fail(f"{error}\n{self.diagnostics()}")

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        """Stop both once (the test stops them before reading the warehouse, the finalizer again)."""
        if not self.stopped:
            stop_all(self.managed)
            self.stopped = True

    def diagnostics(self) -> str:
        return "\n".join(f"--- {service.title} (exit code {service.process.poll()}), the end of {service.log_path}:\n"
                         f"{log_tail(service.log_path, 40)}" for service in self.started())

    def assert_running(self) -> None:
        for service in self.started():
            assert service.process.poll() is None, (
                f"the {service.title} exited with code {service.process.returncode}\n{self.diagnostics()}")

    def graphql(self, query: str, **variables) -> dict:
        response = requests.post(self.graphql_url, json={"query": query, "variables": variables}, timeout=60)
        assert response.status_code == 200, f"GraphQL HTTP {response.status_code}: {response.text[:2000]}"
        body = response.json()
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        return body["data"]


def start_dagster_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
                           environment: dict[str, str]) -> DagsterServices:
    """The webserver on a DAGSTER_HOME prepared under tmp_path, with the FRAUD_ settings `environment` and no other
    (the daemon is started by the test); both are stopped when the test ends."""
    for name in [name for name in os.environ if name.startswith("FRAUD_")]:
        monkeypatch.delenv(name)
    for name, value in {"FRAUD_DATA_DIR": str(tmp_path / "data"), **environment}.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # restored after the test
    dagster_home = prepare_dagster_home(settings.dagster_home)

    port = free_port()
    managed = [service for service in build_services(settings, UpSettings(dagster_port=port))
               if service.name in ("dagster-ui", "dagster-daemon")]
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    services = DagsterServices(settings=settings, dagster_home=dagster_home, port=port, managed=managed,
                               logs_dir=logs_dir)
    request.addfinalizer(services.stop)
    webserver = [service for service in managed if service.name == "dagster-ui"]
    start(webserver[0], service_environment(settings), logs_dir)
    try:
        wait_until_ready(webserver, STARTUP_TIMEOUT_SECONDS)
    except StartupError as error:
        pytest.fail(f"{error}\n{services.diagnostics()}")
    return services


@pytest.fixture
def dagster_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     request: pytest.FixtureRequest) -> DagsterServices:
    return start_dagster_services(tmp_path, monkeypatch, request, {"FRAUD_SIMULATION_SCALE": SIMULATION_SCALE})


def asset_key_input(key: str) -> dict:
    return {"path": [key]}


def launch_backfill(services: DagsterServices, asset_keys: list[str], partition_names: list[str]) -> str:
    """Launch a pure asset backfill with the parameters the UI's backfill dialog sends; return its id."""
    params = {"tags": [], "assetSelection": [asset_key_input(key) for key in asset_keys],
              "partitionNames": partition_names, "fromFailure": False}
    result = services.graphql(LAUNCH_PARTITION_BACKFILL, backfillParams=params)["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", f"launchPartitionBackfill failed: {result}"
    return result["backfillId"]


def fetch_backfill(services: DagsterServices, backfill_id: str) -> dict:
    backfill = services.graphql(BACKFILL, backfillId=backfill_id)["partitionBackfillOrError"]
    assert backfill["__typename"] == "PartitionBackfill", f"backfill {backfill_id}: {backfill}"
    return backfill


def run_errors(services: DagsterServices, run_id: str) -> str:
    """The error events and ERROR-level messages of a run, for an assertion message."""
    run = services.graphql(RUN_EVENTS, runId=run_id)["runOrError"]
    if run["__typename"] != "Run":
        return f"run {run_id}: {run}"
    lines = [f"run {run_id} {run['status']}:"]
    for event in run["eventConnection"]["events"]:
        error = event.get("error")
        if error or event.get("level") == "ERROR":
            lines.append(f"  [{event['__typename']} {event.get('stepKey')}] {event.get('message')}")
            if error:
                lines.append("    " + error["message"] + "".join(error.get("stack") or [])[-3000:])
    return "\n".join(lines)


def backfill_report(services: DagsterServices, backfill: dict) -> str:
    error = backfill["error"]
    lines = [f"backfill {backfill['id']} status {backfill['status']}",
             f"backfill error: {error['message'] + ''.join(error['stack']) if error else None}",
             *(f"run {run['runId']}: {run['status']}" for run in backfill["runs"])]
    lines += [run_errors(services, run["runId"]) for run in backfill["runs"] if run["status"] != "SUCCESS"]
    return "\n".join(lines) + "\n" + services.diagnostics()


def wait_for_backfills(services: DagsterServices, backfill_ids: list[str], timeout: float) -> dict[str, dict]:
    """Poll `partitionBackfillOrError` until every backfill is in a final state; return them by id."""
    deadline = time.monotonic() + timeout
    backfills: dict[str, dict] = {}
    while time.monotonic() < deadline:
        services.assert_running()
        backfills = {backfill_id: fetch_backfill(services, backfill_id) for backfill_id in backfill_ids}
        if all(backfill["status"] in BACKFILL_DONE for backfill in backfills.values()):
            return backfills
        time.sleep(5)
    states = "\n".join(backfill_report(services, backfill) for backfill in backfills.values())
    pytest.fail(f"backfills not finished after {timeout}s:\n{states}")


def run_partition_range(run: dict) -> tuple[str | None, str | None]:
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    return tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")


def materializations_by_partition(services: DagsterServices, asset_key: str,
                                  partitions: list[str]) -> dict[str, set[str]]:
    """Partition key -> ids of the runs that materialized it."""
    asset = services.graphql(MATERIALIZATIONS, assetKey=asset_key_input(asset_key),
                             partitions=partitions)["assetOrError"]
    assert asset["__typename"] == "Asset", f"{asset_key}: {asset}"
    runs: dict[str, set[str]] = {}
    for event in asset["assetMaterializations"]:
        runs.setdefault(event["partition"], set()).add(event["runId"])
    return runs


def check_executions(services: DagsterServices, asset_key: str, check_name: str) -> list[dict]:
    return services.graphql(CHECK_EXECUTIONS, assetKey=asset_key_input(asset_key),
                            checkName=check_name)["assetCheckExecutions"]


def metadata_value(evaluation: dict, label: str):
    """The value of a check evaluation's int, float or text metadata entry `label` (None when absent)."""
    for entry in evaluation["metadataEntries"]:
        if entry["label"] == label:
            return next((entry[name] for name in ("intValue", "floatValue", "text") if name in entry), None)
    return None


def check_partition_statuses(services: DagsterServices, asset_keys: list[str]) -> dict[str, dict[str, str]]:
    """Check name -> {day's partition key: status}, as the check's Partitions tab shows them (days without a
    status, which the tab shows as missing, are absent)."""
    nodes = services.graphql(CHECK_PARTITION_STATUSES, assetKeys=[asset_key_input(key) for key in asset_keys])
    statuses: dict[str, dict[str, str]] = {}
    for node in nodes["assetNodes"]:
        for check in node["assetChecksOrError"]["checks"]:
            partition_statuses = check["partitionStatuses"]
            assert partition_statuses["__typename"] == "AssetCheckTimePartitionStatuses", check
            days = statuses.setdefault(check["name"], {})
            for status_range in partition_statuses["ranges"]:
                first, last = (day_of_partition_key(status_range[end]) for end in ("startKey", "endKey"))
                days.update({partition_key_of_day(day): status_range["status"] for day in range(first, last + 1)})
    return statuses


def overlapping_steps(steps: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of steps whose [startTime, endTime] intervals overlap (steps sorted by start time)."""
    ordered = sorted(steps, key=lambda step: step["startTime"])
    return [(first, second) for first, second in pairwise(ordered) if second["startTime"] < first["endTime"]]


def warehouse_counts_per_day(warehouse: Path, table: str) -> dict[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return dict(connection.execute(f"SELECT day, count(*) FROM fraud.{table} GROUP BY day").fetchall())


def warehouse_days(warehouse: Path, table: str) -> set[int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {day for (day,) in connection.execute(f"SELECT DISTINCT day FROM fraud.{table}").fetchall()}


def assert_backfill_succeeded(services: DagsterServices, backfill: dict, asset_keys: list[str],
                              keys: list[str]) -> None:
    """The backfill completed its selection and days with successful runs, each covering all its days."""
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill_report(services, backfill)
    assert backfill["partitionNames"] == keys
    assert sorted(key["path"][0] for key in backfill["assetSelection"]) == sorted(asset_keys)
    assert backfill["runs"], f"backfill {backfill['id']} launched no run"
    assert all(run["status"] == "SUCCESS" for run in backfill["runs"]), backfill_report(services, backfill)
    for run in backfill["runs"]:  # single-run policy: a run covers the backfill's whole range
        assert run_partition_range(run) == (keys[0], keys[-1]), run["tags"]


def assert_materialized_by_one_run_per_backfill(services: DagsterServices, asset_key: str, ranges: dict[str, list[str]],
                                                backfills: dict[str, dict]) -> None:
    """Every day of every range is materialized, the days of a range by one run of that range's backfill."""
    keys = sorted(key for range_keys in ranges.values() for key in range_keys)
    materialized = materializations_by_partition(services, asset_key, keys)
    assert sorted(materialized) == keys, f"{asset_key} materialized partitions {sorted(materialized)}, expected {keys}"
    for backfill_id, range_keys in ranges.items():
        run_ids = set().union(*(materialized[key] for key in range_keys))
        backfill_runs = {run["runId"] for run in backfills[backfill_id]["runs"]}
        assert len(run_ids) == 1 and run_ids <= backfill_runs, (
            f"{asset_key} days {range_keys} were materialized by runs {run_ids}, not one run of backfill {backfill_id}")


def assert_checks_passed_once_per_day(services: DagsterServices, asset_key: str, check_names: set[str],
                                      run_ids: set[str], keys: list[str]) -> dict[str, dict[str, dict]]:
    """Each check recorded, in these runs, exactly one passed evaluation per day; return evaluations by check and
    day."""
    evaluations: dict[str, dict[str, dict]] = {}
    for check_name in sorted(check_names):
        executions = [execution for execution in check_executions(services, asset_key, check_name)
                      if execution["runId"] in run_ids]
        partitions = sorted((execution["partition"] for execution in executions), key=str)
        assert partitions == keys, f"{check_name} recorded executions for partitions {partitions}, expected {keys}"
        for execution in executions:
            assert execution["status"] == "SUCCEEDED", f"{check_name}: {execution}"
            assert execution["evaluation"]["success"] is True, f"{check_name}: {execution}"
            assert execution["evaluation"]["partition"] == execution["partition"], execution
        evaluations[check_name] = {execution["partition"]: execution["evaluation"] for execution in executions}
    return evaluations


@pytest.mark.timeout(2400)
def test_ui_backfills_materialize_every_day_with_passing_checks_one_warehouse_writer_at_a_time(
    dagster_services: DagsterServices,
):
    services = dagster_services

    # The instance the servers run on is the project's: warehouse writers share a pool of one slot.
    config = yaml.safe_load((services.dagster_home / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert services.dagster_home == services.settings.data_dir / "dagster_home"

    instance = services.graphql(INSTANCE, pool=WAREHOUSE_POOL)["instance"]
    assert instance["poolConfig"]["defaultPoolLimit"] == 1, instance["poolConfig"]
    assert instance["concurrencyLimit"]["limit"] == 1, instance["concurrencyLimit"]

    # What the UI shows of the selected assets: partitioned, single-run backfills, in the pool, with their checks.
    nodes = {node["assetKey"]["path"][0]: node for node in
             services.graphql(ASSET_NODES, assetKeys=[asset_key_input(key) for key in SELECTED_ASSETS])["assetNodes"]}
    assert sorted(nodes) == sorted(SELECTED_ASSETS)
    checks_by_asset: dict[str, set[str]] = {}
    for key, node in nodes.items():
        assert node["isPartitioned"] and node["pools"] == [WAREHOUSE_POOL], node
        assert node["backfillPolicy"] == {"policyType": "SINGLE_RUN"}, node
        assert node["assetChecksOrError"]["__typename"] == "AssetChecks", node
        checks_by_asset[key] = {check["name"] for check in node["assetChecksOrError"]["checks"]}
    assert {key: names for key, names in checks_by_asset.items() if names} == EXPECTED_CHECKS
    pooled_steps = {op_name for node in nodes.values() for op_name in node["opNames"]}

    # Two ingest backfills at once, over disjoint ranges, as two clicks in the backfill dialog would launch them.
    # They wait as requested until the daemon, started now, submits the runs of both in its first iteration.
    ingest_ranges = {launch_backfill(services, INGEST_ASSETS, FIRST_RANGE): FIRST_RANGE,
                     launch_backfill(services, INGEST_ASSETS, SECOND_RANGE): SECOND_RANGE}
    requested = {backfill_id: fetch_backfill(services, backfill_id) for backfill_id in ingest_ranges}
    assert all(backfill["status"] == "REQUESTED" and not backfill["runs"] for backfill in requested.values()), requested
    services.start_daemon()
    instance = services.graphql(INSTANCE, pool=WAREHOUSE_POOL)["instance"]
    healthy = {status["daemonType"] for status in instance["daemonHealth"]["allDaemonStatuses"] if status["healthy"]}
    assert {"BACKFILL", "QUEUED_RUN_COORDINATOR"} <= healthy, instance["daemonHealth"]
    backfills = wait_for_backfills(services, list(ingest_ranges), INGEST_BACKFILLS_TIMEOUT_SECONDS)
    # Then the drift reports of all those days (see the module docstring for why on their own).
    monitoring_ranges = {launch_backfill(services, MONITORING_ASSETS, ALL_KEYS): ALL_KEYS}
    backfills |= wait_for_backfills(services, list(monitoring_ranges), MONITORING_BACKFILL_TIMEOUT_SECONDS)

    for backfill_id, keys in ingest_ranges.items():
        assert_backfill_succeeded(services, backfills[backfill_id], INGEST_ASSETS, keys)
    for backfill_id, keys in monitoring_ranges.items():
        assert_backfill_succeeded(services, backfills[backfill_id], MONITORING_ASSETS, keys)
    for asset_key in INGEST_ASSETS:
        assert_materialized_by_one_run_per_backfill(services, asset_key, ingest_ranges, backfills)
    for asset_key in MONITORING_ASSETS:
        assert_materialized_by_one_run_per_backfill(services, asset_key, monitoring_ranges, backfills)

    # Every check of those assets recorded one passed evaluation per day, in the runs of these backfills.
    runs = [run for backfill in backfills.values() for run in backfill["runs"]]
    run_ids = {run["runId"] for run in runs}
    evaluations = {}
    for asset_key, check_names in EXPECTED_CHECKS.items():
        evaluations |= assert_checks_passed_once_per_day(services, asset_key, check_names, run_ids, ALL_KEYS)
    # The check views show every day as passed (Dagster counts an evaluation only if it names the day's newest
    # materialization; without it the Partitions tab shows the days as missing).
    statuses = check_partition_statuses(services, list(EXPECTED_CHECKS))
    assert statuses == {name: dict.fromkeys(ALL_KEYS, "SUCCEEDED") for names in EXPECTED_CHECKS.values()
                        for name in names}, statuses
    row_counts = {day_of_partition_key(key): metadata_value(evaluation, "row_count")
                  for key, evaluation in evaluations["cleaned_transactions_row_count_check"].items()}
    drift = evaluations["drift_report_feature_drift_check"]
    assert "no reference" in metadata_value(drift[ALL_KEYS[0]], "status"), drift[ALL_KEYS[0]]
    for key in ALL_KEYS[1:]:  # compared with the preceding days, with the same simulation settings: no drift
        assert metadata_value(drift[key], "share_drifted") < metadata_value(drift[key], "threshold"), drift[key]

    # The two ingest runs existed together: the second was queued before the first ended, and the queue launches up
    # to 4 runs, so only the pool kept their writers apart (by holding the second run in the queue, or its steps at
    # the slot): it let one warehouse writer run at a time, across the runs of all backfills.
    ingest_runs = [run for backfill_id in ingest_ranges for run in backfills[backfill_id]["runs"]]
    assert len(ingest_runs) == 2, f"each ingest backfill should be one run: {[run['runId'] for run in ingest_runs]}"
    first_run, second_run = sorted(ingest_runs, key=lambda run: run["creationTime"])
    assert second_run["creationTime"] < first_run["endTime"], (
        f"the second ingest run was queued after the first ended, so nothing was left to the pool: "
        f"{first_run} {second_run}")
    writer_steps = [{**step, "runId": run["runId"]} for run in runs for step in run["stepStats"]
                    if step["stepKey"] in pooled_steps]
    assert {step["stepKey"] for step in writer_steps} == pooled_steps
    assert all(step["status"] == "SUCCESS" and step["startTime"] and step["endTime"]
               for step in writer_steps), writer_steps
    assert overlapping_steps(writer_steps) == [], f"warehouse writers overlapped: {overlapping_steps(writer_steps)}"

    # The warehouse, read once the servers (and any run worker they started) are gone.
    services.stop()
    warehouse = services.settings.warehouse_path
    raw, cleaned, rejected = (warehouse_counts_per_day(warehouse, table) for table in INGEST_ASSETS)
    days = [day_of_partition_key(key) for key in ALL_KEYS]
    assert sorted(raw) == days and sorted(cleaned) == days, f"raw days {sorted(raw)}, cleaned days {sorted(cleaned)}"
    assert set(rejected) <= set(days)
    for day in days:
        assert raw[day] > 0 and cleaned[day] > 0
        assert raw[day] == cleaned[day] + rejected.get(day, 0), (
            f"day {day}: raw {raw[day]}, cleaned {cleaned[day]}, rejected {rejected.get(day, 0)}")
    assert row_counts == cleaned, "the row count check's evaluations disagree with the warehouse"
    assert warehouse_days(warehouse, "drift_report") == set(days[1:]), (
        "day 0 has no earlier day; every other day has a report")
