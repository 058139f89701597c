"""INVENTORY_SYNC_IMPL=shadow: the legacy runs for real, the refactored sync is replayed from its recording.

The promises checked here: the caller gets exactly the legacy's result (or exception); the shadow adds no AWS call
and no write; the verdict is one structured log line and one EMF metric record; a divergent or broken candidate is
reported and changes nothing for the caller. The last test runs the shadow under the harness itself, replaying
goldens: every golden stays equivalent, which proves the shadow's zero extra calls scenario by scenario, and the
shadow's verdict is equivalent where the gate's is (an approved fix shows in shadow mode as a divergence).
"""

import io
import json
import logging
from pathlib import Path

import pytest

from harness import interception
from harness.cassette import Cassette
from harness.clock import frozen_clock
from harness.gate import judge
from harness.golden import GOLDEN_DIR, read_golden
from harness.lambda_env import cold_start, import_lambda_module
from harness.replay_session import check
from harness.shadow import (
    BUDGET_ENV,
    DEFAULT_BUDGET_S,
    SHADOW_EVENT,
    run_in_shadow,
    shadow_budget_s,
    wait_for_abandoned,
)
from harness.world.local import local_aws
from harness.world.scenario import load_scenario
from harness.world.state import dump_tables
from tests.integration import shadow_candidates

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "demo-two-accounts.yaml"
SMALL_GOLDENS = sorted(path for path in GOLDEN_DIR.glob("*.json") if "@" not in path.name)


def shadow_records(caplog: pytest.LogCaptureFixture) -> list[dict]:
    """The shadow verdict log lines captured so far."""
    records = []
    for record in caplog.records:
        if record.name == "harness.shadow" and SHADOW_EVENT in record.getMessage():
            records.append(json.loads(record.getMessage()))
    return records


def run_handler(flag: str) -> tuple[dict, int, dict]:
    """lambda_handler with the sync event on a fresh world: (result, AWS requests served, tables after)."""
    scenario = load_scenario(SCENARIO)
    environment = {**scenario.environment(), "INVENTORY_SYNC_IMPL": flag}
    with frozen_clock(scenario.clock), local_aws(scenario) as world:
        with cold_start(environment):
            result = import_lambda_module("index").lambda_handler({"operation": "sync_source_server_inventory"}, None)
        tables = dump_tables(scenario)
    return result, world.requests_served, tables


def test_shadow_returns_the_legacys_result_and_adds_no_call_and_no_write(caplog, capsys):
    legacy_result, legacy_requests, legacy_tables = run_handler("legacy")
    with caplog.at_level(logging.INFO):
        shadow_result, shadow_requests, shadow_tables = run_handler("shadow")

    assert shadow_result == legacy_result
    assert shadow_requests == legacy_requests
    assert shadow_tables == legacy_tables
    [verdict] = shadow_records(caplog)
    assert verdict["equivalent"] is True
    assert verdict["differences"] == []
    assert verdict["candidate"] == "refactored"
    # The refactored sync's only differences are approved fixes: it also cleans up the first account (defect 1: its
    # one cleanup Scan, in four segments, names both accounts in place of the legacy's Scan of the last one, answered
    # in shadow from the rows the legacy's run wrote and its Scan found; no extra AWS call), and its region rows carry
    # running totals (defect 4).
    assert verdict["verdict"] == "approved"
    assert verdict["approved"] == ["defect-1-cleanup-every-account", "defect-4-region-status-running-total"]
    assert verdict["calls"] == legacy_requests + 3  # the legacy's cleanup Scan, read in four segments
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [emf] = [record for record in metrics if "_aws" in record]
    assert emf["ShadowEquivalent"] == 1 and emf["ShadowDivergent"] == 0 and emf["ShadowErrors"] == 0
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DRSOrchestration/InventorySync"


def legacy_function():
    """The legacy entry point of the current (cold-started) Lambda modules."""
    return import_lambda_module("inventory_sync_legacy").handle_sync_source_server_inventory_legacy


def test_a_divergent_candidate_is_reported_and_the_caller_still_gets_the_legacys_result(caplog):
    scenario = load_scenario(SCENARIO)
    metrics = io.StringIO()
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(scenario.environment()):
        expected = legacy_function()()
    candidate = "tests.integration.shadow_candidates:reports_one_more_error"
    environment = scenario.environment()
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(environment), caplog.at_level(logging.INFO):
        result = run_in_shadow(legacy_function(), candidate, metrics)

    assert result == expected
    [verdict] = shadow_records(caplog)
    assert verdict["equivalent"] is False
    assert verdict["differences"][0]["kind"] == "output"
    assert any("totalErrors" in detail for detail in verdict["differences"][0]["details"])
    assert json.loads(metrics.getvalue())["ShadowDivergent"] == 1


def test_a_candidate_that_cannot_run_is_a_shadow_error_not_a_failed_sync(caplog):
    scenario = load_scenario(SCENARIO)
    metrics = io.StringIO()
    with (
        frozen_clock(scenario.clock),
        local_aws(scenario),
        cold_start(scenario.environment()),
        caplog.at_level(logging.INFO),
    ):
        result = run_in_shadow(legacy_function(), "no_such_module:sync", metrics)

    assert json.loads(result["body"])["totalSynced"] == 12
    [verdict] = shadow_records(caplog)
    assert verdict["equivalent"] is None
    assert "no_such_module" in verdict["error"]
    assert json.loads(metrics.getvalue())["ShadowErrors"] == 1


def test_a_judgement_past_its_budget_gives_up_with_verdict_timeout_and_the_caller_gets_the_legacys_result(caplog):
    """The candidate cannot finish before the test releases it, so only the deadline can end the wait; once
    released, the abandoned replay is cancelled (its calls refused, no verdict of its own), and the next shadow run
    finds interception restored and judges as usual."""
    scenario = load_scenario(SCENARIO)
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(scenario.environment()):
        expected = legacy_function()()
    metrics = io.StringIO()
    shadow_candidates.RELEASE.clear()
    with (
        frozen_clock(scenario.clock),
        local_aws(scenario),
        cold_start(scenario.environment()),
        caplog.at_level(logging.INFO),
    ):
        try:
            result = run_in_shadow(
                legacy_function(), "tests.integration.shadow_candidates:waits_for_release", metrics, budget_s=0.05
            )
            [verdict] = shadow_records(caplog)
        finally:
            shadow_candidates.RELEASE.set()
        # Released and cancelled, the abandoned judgement stops (inside the blocks it entered within: its cold start
        # restores the environment it found) and publishes nothing.
        assert wait_for_abandoned(60)
    assert not interception.active()
    assert len(shadow_records(caplog)) == 1

    assert json.loads(result["body"]) == json.loads(expected["body"])
    assert (verdict["verdict"], verdict["equivalent"], verdict["budgetS"]) == ("timeout", None, 0.05)
    [emf] = [json.loads(line) for line in metrics.getvalue().splitlines()]
    assert (emf["ShadowTimeouts"], emf["ShadowErrors"], emf["ShadowDivergent"], emf["ShadowEquivalent"]) == (1, 0, 0, 0)
    caplog.clear()
    with (
        frozen_clock(scenario.clock),
        local_aws(scenario),
        cold_start(scenario.environment()),
        caplog.at_level(logging.INFO),
    ):
        run_in_shadow(legacy_function(), "refactored", io.StringIO())
    [verdict] = shadow_records(caplog)
    assert verdict["equivalent"] is True


@pytest.mark.parametrize(
    ("value", "budget"),
    [(None, DEFAULT_BUDGET_S), ("", DEFAULT_BUDGET_S), ("30", 30.0), ("2.5", 2.5)]
    + [(bad, DEFAULT_BUDGET_S) for bad in ("0", "-5", "soon", "nan", "inf")],
)
def test_the_budget_is_a_positive_number_of_seconds_from_the_environment(value, budget, monkeypatch, caplog):
    if value is None:
        monkeypatch.delenv(BUDGET_ENV, raising=False)
    else:
        monkeypatch.setenv(BUDGET_ENV, value)
    with caplog.at_level(logging.WARNING):
        assert shadow_budget_s() == budget
    warned = [record for record in caplog.records if BUDGET_ENV in record.getMessage()]
    assert len(warned) == (1 if value not in (None, "", "30", "2.5") else 0)


def test_the_legacys_exception_reaches_the_caller_unchanged_and_the_candidate_matches_it(caplog):
    scenario = load_scenario(Path(SCENARIO).with_name("no-target-accounts.yaml"))
    with (
        frozen_clock(scenario.clock),
        local_aws(scenario),
        cold_start(scenario.environment()),
        caplog.at_level(logging.INFO),
        pytest.raises(UnboundLocalError, match="all_servers"),
    ):
        run_in_shadow(legacy_function(), "refactored", io.StringIO())

    [verdict] = shadow_records(caplog)
    assert verdict["equivalent"] is True
    assert (verdict["verdict"], verdict["approved"]) == ("approved", ["defect-3-nothing-read"])


@pytest.mark.parametrize("golden", SMALL_GOLDENS, ids=lambda path: path.stem)
def test_shadow_under_the_harness_keeps_every_golden_equivalent(golden, monkeypatch, caplog):
    """The gate replays a golden into the Lambda's sync with the flag on shadow: the legacy's recorded calls are
    all there is (no extra call, no write), and the shadow's own verdict, judged through the approved divergences
    as the gate judges, passes wherever the gate's does on a recording that names no scenario (as the shadow's own:
    a fix whose new calls need the world, defect 7's kept pages with EC2 hints say, stays divergent there)."""
    cassette = read_golden(golden)
    # What the shadow can judge: its recording names no scenario, so answers that need the world are not given.
    expected = judge(without_scenario(cassette), "refactored").passed
    monkeypatch.setenv("INVENTORY_SYNC_IMPL", "shadow")
    with caplog.at_level(logging.INFO):
        comparison = check(cassette, "index:handle_sync_source_server_inventory")

    assert comparison.equivalent, comparison.differences
    assert [verdict["equivalent"] for verdict in shadow_records(caplog)] == [expected]


def without_scenario(cassette: Cassette) -> Cassette:
    """The golden as shadow mode sees its own recording: the header names no scenario file."""
    header = {**cassette.header, "scenario": {"name": "shadow", "file": None, "content_hash": None}}
    return Cassette(header, cassette.interactions, cassette.outputs)
