"""Shadow mode, after GitHub Scientist: the legacy (control) runs for real while recorded, then its recording is
replayed into the refactored code (candidate) in the same invocation: zero extra AWS calls, no writes.

The caller always gets the control's result (or its exception), whatever happens in the candidate. The verdict is
judged like the gate's, through the approved divergences (legacy defects the refactored sync fixes on purpose), and
published as one structured JSON log line and a CloudWatch embedded-metric (EMF) record.

The judgement has a deadline: it runs on a daemon thread, and after `INVENTORY_SYNC_SHADOW_BUDGET_S` seconds
(default 120, well inside the function's 900 s timeout) the shadow gives up with verdict `timeout` and the caller
gets the control's result at once. The abandoned replay is cancelled: its next call raises `ReplayCancelled` and it
skips the comparison. A replay intercepts every botocore client of the process and cold-starts the Lambda's
modules with its own environment while it runs, so the next shadow run first waits (up to its own budget) for an
abandoned replay to have stopped before the control runs; nothing else runs in the invocation after a timeout but
returning the result.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from harness.cassette import Cassette, Outputs
from harness.codec import to_json
from harness.divergences import Triage
from harness.gate import judge
from harness.interception import intercept
from harness.matchers import CLOCK_TOLERANT
from harness.recorder import Recorder
from harness.scheduling import Schedule, observed_scheduling

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)  # the verdict is an INFO line; the Lambda runtime leaves the root logger at WARNING

SHADOW_EVENT = "inventory_sync_shadow"
BUDGET_ENV = "INVENTORY_SYNC_SHADOW_BUDGET_S"
DEFAULT_BUDGET_S = 120.0
TIMEOUT_VERDICT = "timeout"
METRIC_NAMESPACE = "DRSOrchestration/InventorySync"
DIFFERENCES_LOGGED = 5
# What the candidate's replay needs of the environment (tables and region); credentials are never copied.
REPLAY_ENVIRONMENT_KEYS = (
    "SOURCE_SERVER_INVENTORY_TABLE",
    "TARGET_ACCOUNTS_TABLE",
    "DRS_REGION_STATUS_TABLE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


# Judgements that overran their budget and may still be replaying (each cancelled): the next run waits for them.
_abandoned: list[threading.Thread] = []


def run_in_shadow(
    control: Callable[[], Any],
    candidate: str = "refactored",
    metrics: TextIO | None = None,
    budget_s: float | None = None,
) -> Any:
    """Run `control` for real and return what it returns (or raise what it raises); compare `candidate` on the side.

    The comparison takes at most `budget_s` seconds (default: `shadow_budget_s()`), then gives up (see the module).
    """
    budget = shadow_budget_s() if budget_s is None else budget_s
    wait_for_abandoned(budget)
    recorder = Recorder()
    started = time.perf_counter()
    control_error: Exception | None = None
    result: Any = None
    with observed_scheduling() as completion_orders, intercept(recorder):
        try:
            result = control()
        except Exception as error:
            control_error = error
    control_ms = (time.perf_counter() - started) * 1000
    outputs = (
        Outputs(exception={"type": type(control_error).__name__, "message": str(control_error)})
        if control_error is not None
        else Outputs(result=to_json(result))
    )
    _compare_in_shadow(
        Cassette(_header(), recorder.interactions, outputs),
        candidate,
        completion_orders,
        control_ms,
        metrics or sys.stdout,
        budget,
    )
    if control_error is not None:
        raise control_error
    return result


def shadow_budget_s() -> float:
    """Seconds the shadow's judgement may take: `INVENTORY_SYNC_SHADOW_BUDGET_S`, a positive number (default 120).

    An invalid value is logged as a warning naming the variable, and the default is used.
    """
    raw = os.environ.get(BUDGET_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_BUDGET_S
    try:
        budget = float(raw)
    except ValueError:
        budget = 0.0
    if not budget > 0 or budget == float("inf"):
        logger.warning("%s=%r is not a positive number of seconds; using %s", BUDGET_ENV, raw, DEFAULT_BUDGET_S)
        return DEFAULT_BUDGET_S
    return budget


def wait_for_abandoned(timeout_s: float) -> bool:
    """Wait up to `timeout_s` seconds in all for judgements abandoned earlier to stop; whether none is left running.

    One still running after that is logged as an error: its replay may still be answering this process's calls.
    """
    deadline = time.monotonic() + timeout_s
    for thread in list(_abandoned):
        thread.join(max(0.0, deadline - time.monotonic()))
        if not thread.is_alive():
            _abandoned.remove(thread)
    if _abandoned:
        logger.error("%d abandoned shadow judgement(s) still running after %.1f s", len(_abandoned), timeout_s)
        return False
    return True


def _compare_in_shadow(
    cassette: Cassette, candidate: str, orders: list[list[int]], control_ms: float, metrics: TextIO, budget_s: float
) -> None:
    """Replay the control's recording into the candidate on a daemon thread and publish the verdict; never raises.

    Waits at most `budget_s` seconds: past that the judgement is cancelled and abandoned, and the verdict is `timeout`.
    """
    outcome: dict[str, Any] = {}
    cancelled = threading.Event()

    def judgement() -> None:
        """Judge the candidate on the control's recording, keeping the verdict or the failure for the waiting caller."""
        try:
            outcome["verdict"] = judge(
                cassette,
                candidate,
                Schedule.explicit(orders),
                matching=CLOCK_TOLERANT,
                freeze_clock=False,
                cancelled=cancelled,
            )
        except BaseException as error:  # reported by the caller's thread; a cancelled judgement's is dropped
            outcome["error"] = error

    started = time.perf_counter()
    thread = threading.Thread(target=judgement, name="inventory-sync-shadow", daemon=True)
    thread.start()
    thread.join(budget_s)
    candidate_ms = (time.perf_counter() - started) * 1000
    if thread.is_alive():
        cancelled.set()
        _abandoned.append(thread)
        record = timeout_record(candidate, control_ms, candidate_ms, budget_s)
        _publish(record, metrics, equivalent=None, differences=0, timed_out=True)
        return
    if "error" in outcome:
        error = outcome["error"]
        logger.error("inventory sync shadow comparison failed", exc_info=error)
        _publish(
            {"event": SHADOW_EVENT, "equivalent": None, "error": f"{type(error).__name__}: {error}"},
            metrics,
            equivalent=None,
            differences=0,
        )
        return
    verdict: Triage = outcome["verdict"]
    record = verdict_record(verdict, candidate, control_ms, candidate_ms)
    _publish(record, metrics, equivalent=verdict.passed, differences=len(verdict.uncovered))


def timeout_record(candidate: str, control_ms: float, candidate_ms: float, budget_s: float) -> dict[str, Any]:
    """The structured log line of a judgement given up at its deadline: no verdict on the candidate."""
    return {
        "event": SHADOW_EVENT,
        "candidate": candidate,
        "equivalent": None,
        "verdict": TIMEOUT_VERDICT,
        "approved": [],
        "differences": [],
        "budgetS": budget_s,
        "controlMs": round(control_ms, 1),
        "candidateMs": round(candidate_ms, 1),
    }


def verdict_record(verdict: Triage, candidate: str, control_ms: float, candidate_ms: float) -> dict[str, Any]:
    """The structured log line: the verdict, the approved divergences, the first uncovered differences, sizes, timings.

    `equivalent` is true when every difference is covered by an approved divergence (`verdict` says `equivalent` or
    `approved`, `approved` names them); `differences` lists only what no approved divergence covers.
    """
    comparison = verdict.comparison
    return {
        "event": SHADOW_EVENT,
        "candidate": candidate,
        "equivalent": verdict.passed,
        "verdict": verdict.verdict,
        "approved": [divergence.name for divergence in verdict.approved],
        # A live recording has no approved record: its changes are only attributed by the divergences' predicates.
        "judged": "exactly" if verdict.exact else "by predicates (no approved record)",
        "differences": [difference.to_dict() for difference in verdict.uncovered[:DIFFERENCES_LOGGED]],
        "differenceCount": len(verdict.uncovered),
        "calls": comparison.calls,
        "writes": comparison.writes,
        "controlMs": round(control_ms, 1),
        "candidateMs": round(candidate_ms, 1),
    }


def _publish(
    record: dict[str, Any], metrics: TextIO, *, equivalent: bool | None, differences: int, timed_out: bool = False
) -> None:
    """One JSON log line for people (a timeout is a warning), one EMF record for CloudWatch metrics."""
    level = logging.WARNING if timed_out else logging.INFO if equivalent else logging.ERROR
    logger.log(level, json.dumps(record, sort_keys=True, default=str))
    metrics.write(json.dumps(emf_record(equivalent, differences, timed_out=timed_out)) + "\n")
    metrics.flush()


def emf_record(equivalent: bool | None, differences: int, *, timed_out: bool = False) -> dict[str, Any]:
    """A CloudWatch embedded-metric record counting equivalent, divergent, failed and timed-out shadow comparisons."""
    metrics = ["ShadowEquivalent", "ShadowDivergent", "ShadowErrors", "ShadowTimeouts", "ShadowDifferences"]
    return {
        "_aws": {
            "Timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["Operation"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
                }
            ],
        },
        "Operation": "sync_source_server_inventory",
        "ShadowEquivalent": 1 if equivalent is True else 0,
        "ShadowDivergent": 1 if equivalent is False else 0,
        "ShadowErrors": 1 if equivalent is None and not timed_out else 0,
        "ShadowTimeouts": 1 if timed_out else 0,
        "ShadowDifferences": differences,
    }


def _header() -> dict[str, Any]:
    """Just enough header for the in-memory recording the candidate is replayed from."""
    return {
        "scenario": {"name": "shadow", "file": None, "content_hash": None},
        "recorded_from": {"impl": "legacy", "source": "shadow"},
        "clock": datetime.now(UTC).isoformat(),
        "schedule": "submission",
        "environment": {key: os.environ.get(key) for key in REPLAY_ENVIRONMENT_KEYS},
        "allowances": {"fewer_reads": []},
    }
