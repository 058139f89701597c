"""Shadow mode, after GitHub Scientist: the legacy (control) runs for real while recorded, then its recording is
replayed into the refactored code (candidate) in the same invocation: zero extra AWS calls, no writes.

The caller always gets the control's result (or its exception), whatever happens in the candidate. The verdict is
judged like the gate's, through the approved divergences (legacy defects the refactored sync fixes on purpose), and
published as one structured JSON log line and a CloudWatch embedded-metric (EMF) record.
"""

from __future__ import annotations

import json
import logging
import os
import sys
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


def run_in_shadow(control: Callable[[], Any], candidate: str = "refactored", metrics: TextIO | None = None) -> Any:
    """Run `control` for real and return what it returns (or raise what it raises); compare `candidate` on the side."""
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
    )
    if control_error is not None:
        raise control_error
    return result


def _compare_in_shadow(
    cassette: Cassette, candidate: str, orders: list[list[int]], control_ms: float, metrics: TextIO
) -> None:
    """Replay the control's recording into the candidate and publish the verdict; never raises."""
    started = time.perf_counter()
    try:
        verdict = judge(cassette, candidate, Schedule.explicit(orders), matching=CLOCK_TOLERANT, freeze_clock=False)
    except Exception as error:
        logger.exception("inventory sync shadow comparison failed")
        _publish(
            {"event": SHADOW_EVENT, "equivalent": None, "error": f"{type(error).__name__}: {error}"},
            metrics,
            equivalent=None,
            differences=0,
        )
        return
    record = verdict_record(verdict, candidate, control_ms, (time.perf_counter() - started) * 1000)
    _publish(record, metrics, equivalent=verdict.passed, differences=len(verdict.uncovered))


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
        "differences": [difference.to_dict() for difference in verdict.uncovered[:DIFFERENCES_LOGGED]],
        "differenceCount": len(verdict.uncovered),
        "calls": comparison.calls,
        "writes": comparison.writes,
        "controlMs": round(control_ms, 1),
        "candidateMs": round(candidate_ms, 1),
    }


def _publish(record: dict[str, Any], metrics: TextIO, *, equivalent: bool | None, differences: int) -> None:
    """One JSON log line for people, one EMF record for CloudWatch metrics."""
    level = logging.INFO if equivalent else logging.ERROR
    logger.log(level, json.dumps(record, sort_keys=True, default=str))
    metrics.write(json.dumps(emf_record(equivalent, differences)) + "\n")
    metrics.flush()


def emf_record(equivalent: bool | None, differences: int) -> dict[str, Any]:
    """A CloudWatch embedded-metric record counting equivalent, divergent and failed shadow comparisons."""
    metrics = ["ShadowEquivalent", "ShadowDivergent", "ShadowErrors", "ShadowDifferences"]
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
        "ShadowErrors": 1 if equivalent is None else 0,
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
