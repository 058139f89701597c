"""The bench machinery on a tiny fleet: record, replay both implementations with latency, compare, report.

No timing is asserted (that is the bench's job, not the suite's): only that every stage runs and reports what the
issue asks for, with the right types, and that the two implementations write the same sequence.
"""

import json
from pathlib import Path

import pytest
import yaml

from harness.bench.fleet import cached_recording
from harness.bench.limit import write_bound_limit
from harness.bench.measure import first_difference
from harness.bench.run import run_bench, table, verdicts
from harness.bench.timeline import busy_seconds, pack_rows
from harness.golden import read_golden
from harness.world.scenario import load_scenario

TINY_FLEET = {
    "name": "tiny-fleet",
    "description": "2 accounts x 2 regions x 3 servers, pages of 2, a few milliseconds of latency",
    "hub_account": "999999999999",
    "active_regions": [{"region": "us-east-1", "serverCount": 6}, {"region": "eu-west-1", "serverCount": 6}],
    "target_accounts": [
        {
            "accountId": account,
            "roleArn": f"arn:aws:iam::{account}:role/DRSOrchestrationRole",
            "externalId": f"ext-{account[0]}",
        }
        for account in ("111111111111", "222222222222")
    ],
    "accounts": {
        account: {"drs": {region: {"servers": 3, "page_size": 2} for region in ("us-east-1", "eu-west-1")}}
        for account in ("111111111111", "222222222222")
    },
    "latency_ms": {
        "drs": {"DescribeSourceServers": 4},
        "ec2": 3,
        "sts": {"AssumeRole": 2, "GetCallerIdentity": 1},
        "dynamodb": {"BatchWriteItem": 2, "PutItem": 1, "GetItem": 1, "Scan": 1},
    },
}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One bench run over the tiny fleet (memory fleet and recorder overhead skipped: they are the slow stages)."""
    directory = tmp_path_factory.mktemp("bench")
    fleet = directory / "tiny-fleet.yaml"
    fleet.write_text(yaml.safe_dump(TINY_FLEET), encoding="utf-8")
    results = run_bench(
        fleet=fleet,
        memory_fleet=None,
        overhead_scenario=None,
        out_dir=directory / "out",
        cache_dir=directory / "cache",
        timeline=True,
        log=lambda _line: None,
    )
    return directory, results


def test_results_json_has_the_issue_fields_with_their_types(bench: tuple[Path, dict]) -> None:
    directory, results = bench
    written = json.loads((directory / "out" / "results.json").read_text(encoding="utf-8"))
    assert written == results
    assert written["fleet"]["servers"] == 12
    assert written["fleet"]["accounts"] == 2
    for key in ("legacy_s", "refactored_s", "speedup", "limit_s", "refactored_over_limit"):
        assert isinstance(written[key], float) and written[key] > 0, key
    memory_keys = ("peak_rss_mb", "traced_peak_mb", "sync_rss_mb")
    for key in [f"{name}_{impl}" for name in memory_keys for impl in ("legacy", "refactored")]:
        assert isinstance(written[key], float) and written[key] > 0, key
    assert written["sync_rss_mb_legacy"] < written["peak_rss_mb_legacy"]  # the recording is not the sync's
    # Two accounts: the refactored sync's region rows carry running totals (defect 4 fixed), so the writes are
    # equal to the legacy's but for that approved divergence, which the gate names; nothing else may differ.
    assert written["writes_identical"] is False and isinstance(written["first_write_difference"], int)
    assert written["writes_equivalent"] is True
    assert "defect-4-region-status-running-total" in written["approved_divergences"]
    assert written["unrecorded_calls"] == {"legacy": 0, "refactored": 0}
    assert written["verdicts"]["memory_fleet.sync_rss_mb_refactored"] is None  # not measured in this run
    assert "speedup" in table(written)


def test_the_limit_is_derived_from_the_recording(bench: tuple[Path, dict]) -> None:
    directory, results = bench
    cassette = read_golden(next((directory / "cache").glob("tiny-fleet.json*")))
    limit = write_bound_limit(cassette, load_scenario(directory / "tiny-fleet.yaml").latency_for)
    # Per account: 2 region-status PutItems (1 ms) and BatchWriteItems (2 ms): 1 for the statuses, 1 for 6 servers.
    assert limit.write_operations == {"PutItem": 4, "BatchWriteItem": 4}
    assert limit.writes_s == pytest.approx((4 * 1 + 4 * 2) / 1000)
    # Two Scans, GetCallerIdentity, AssumeRole, then the longest region's two DRS pages.
    assert limit.head_s == pytest.approx((1 + 1 + 1 + 2 + 2 * 4) / 1000)
    assert limit.tail_pages == 1
    assert results["limit"]["writes"] == results["writes"]["legacy"] == 8


def test_the_recording_is_cached(bench: tuple[Path, dict]) -> None:
    directory, results = bench
    scenario = load_scenario(directory / "tiny-fleet.yaml")
    again = cached_recording(scenario, directory / "cache", log=lambda _line: None)
    assert again.from_cache is True
    assert results["recordings"]["tiny-fleet"]["from_cache"] is False
    assert again.calls == results["recordings"]["tiny-fleet"]["calls"]


def test_the_timeline_is_drawn(bench: tuple[Path, dict]) -> None:
    directory, _ = bench
    assert (directory / "out" / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verdicts_and_helpers() -> None:
    assert first_difference(["a", "b"], ["a", "b"]) is None
    assert first_difference(["a", "b"], ["a", "c"]) == 1
    assert first_difference(["a"], ["a", "b"]) == 1
    results = {"speedup": 5.0, "writes_equivalent": False, "refactored_over_limit": 1.1}
    verdict = verdicts(results)
    assert verdict["speedup"] is False  # a speed-up with different writes does not count
    assert verdict["refactored_over_limit"] is True
    assert verdict["recording_overhead.ratio"] is None


def test_timeline_packing() -> None:
    from harness.bench.measure import CallSpan

    spans = [
        CallSpan("drs", "DescribeSourceServers", "r", "a", False, start, end)
        for start, end in [(0, 2), (1, 3), (2, 4), (5, 6)]
    ]
    assert pack_rows(spans) == [0, 1, 0, 0]
    assert busy_seconds(spans) == pytest.approx(5.0)
