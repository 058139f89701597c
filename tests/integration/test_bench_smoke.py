"""The bench machinery on a tiny fleet: record, replay both implementations with latency, compare, report.

No timing is asserted (that is the bench's job, not the suite's): only that every stage runs and reports what the
issue asks for, with the right types, and that the two implementations write the same sequence. Where the machine
can make a CPU-quota cgroup the replays run under Lambda's CPU share of two memory sizes (the sweep, the cost, the
recommendation and the growth line are checked); where it cannot, the bench must say why and report the
unconstrained figures only.
"""

import copy
import json
from pathlib import Path

import pytest
import yaml

from harness.bench.fleet import cached_recording
from harness.bench.lambda_cost import growth, recommend, run_cost, template_schedule
from harness.bench.limit import write_bound_limit
from harness.bench.measure import first_difference
from harness.bench.run import TEMPLATE, memory_results, run_bench, table, verdicts
from harness.bench.sweep import cpu_share_support
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


# A smaller fleet of the same shape, for the growth line: 1 server per region instead of 3.
SMALLER_FLEET = copy.deepcopy(TINY_FLEET) | {"name": "tiny-fleet-small"}
for _account in SMALLER_FLEET["accounts"].values():
    for _region in _account["drs"].values():
        _region["servers"] = 1
SWEPT_MB = (128, 1769)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One bench run over the tiny fleet, the smaller one as memory and growth fleet (recorder overhead skipped)."""
    directory = tmp_path_factory.mktemp("bench")
    fleet = directory / "tiny-fleet.yaml"
    fleet.write_text(yaml.safe_dump(TINY_FLEET), encoding="utf-8")
    smaller = directory / "tiny-fleet-small.yaml"
    smaller.write_text(yaml.safe_dump(SMALLER_FLEET), encoding="utf-8")
    results = run_bench(
        fleet=fleet,
        memory_fleet=smaller,
        growth_fleets=(smaller,),
        memory_sizes=SWEPT_MB,
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
    assert written["verdicts"]["memory_fleet.sync_rss_mb_refactored"] is True
    assert "speedup" in table(written)
    assert set(written["stages_s"]) >= {
        "record tiny-fleet",
        "record tiny-fleet-small",
        "memory fleet, its growth replays beside it",
    }
    # The memory fleet was recorded by the background process from the start, then read from the cache.
    assert written["recordings"]["tiny-fleet-small"]["from_cache"] is True
    assert written["recordings"]["tiny-fleet"]["from_cache"] is False
    assert written["stages_s"]["background recording, in all"] > 0
    assert written["growth"]["memory_mb"] == written["recommendation"]["memory_mb"]
    assert (
        0
        < written["code_lines"]["total"]
        == sum(count for name, count in written["code_lines"].items() if name != "total")
    )


def test_the_replays_run_under_lambdas_cpu_share_or_the_bench_says_why_not(bench: tuple[Path, dict]) -> None:
    directory, results = bench
    share = results["cpu_share"]
    if not share["available"]:
        assert share["reason"] and results["measured_at_memory_mb"] is None
        assert "memory_sweep" not in results and "recommendation" not in results
        assert f"no Lambda CPU share: {share['reason']}" in table(results)
        return
    assert share["cgroup_version"] in (1, 2) and share["reason"] is None
    assert results["measured_at_memory_mb"] == 1769
    sweep = results["memory_sweep"]
    assert [entry["memory_mb"] for entry in sweep] == list(SWEPT_MB)
    for entry in sweep:
        for impl in ("legacy", "refactored"):
            figures = entry[impl]
            assert set(figures) == {"wall_s", "cpu_s", "billed_gb_s", "cost_per_run_usd", "cost_per_month_usd"}
            assert figures["wall_s"] > 0 and figures["cpu_s"] > 0 and figures["billed_gb_s"] > 0
            # Both are rounded (a run's cost to 8 places, a month's to 6): half a last place of a run's is 2,880 times
            # as much in a month, which a tiny fleet's month of cents feels.
            month = figures["cost_per_run_usd"] * 2880
            assert figures["cost_per_month_usd"] == pytest.approx(month, rel=1e-3, abs=2880 * 0.5e-8 + 0.5e-6)
        assert entry["refactored_writes_as_at_headline"] is True  # the CPU share never changes what is written
    assert results["speedup_by_memory"]["128"] == sweep[0]["speedup"]
    assert results["verdicts"]["speedup_by_memory.128"] is not None
    assert results["verdicts"]["speedup_by_memory.512"] is None  # not swept here
    assert results["recommendation"]["memory_mb"] in SWEPT_MB
    assert results["growth"]["memory_mb"] == results["recommendation"]["memory_mb"]
    assert [fleet["servers"] for fleet in results["growth"]["fleets"]] == [4, 12]
    for impl in ("legacy", "refactored"):
        assert results["growth"][impl]["seconds_per_1000_servers"] != 0
    assert (directory / "out" / "memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "recommended:" in table(results) and "growth at" in table(results)


def test_cost_recommendation_and_growth_arithmetic() -> None:
    schedule = template_schedule(TEMPLATE)
    assert schedule.minutes == 15 and schedule.runs_per_month == 2880
    # 10 s at 1,024 MB: 10 GB-s at the x86 price, plus one request.
    cost = run_cost(10.0, 3.0, 1024, schedule)
    assert cost["billed_gb_s"] == 10.0
    assert cost["cost_per_run_usd"] == pytest.approx(10 * 0.0000166667 + 0.2e-6, rel=1e-4)
    sweep = [
        {"memory_mb": memory, "refactored": run_cost(seconds, 1.0, memory, schedule)}
        for memory, seconds in [(128, 40.0), (512, 9.7), (1024, 8.1), (1769, 7.6), (3008, 7.5)]
    ]
    # Within 10% of the fastest (7.5 s, so <= 8.25 s): 1,024, 1,769 and 3,008 MB; 1,024 MB is the cheapest.
    assert recommend(sweep)["memory_mb"] == 1024
    assert recommend(sweep)["candidates_mb"] == [1024, 1769, 3008]
    # A memory floor above 1,024 MB moves it up.
    assert recommend(sweep, min_memory_mb=1500)["memory_mb"] == 1769
    line = growth([(1000, 2.0), (9000, 10.0), (50000, 51.0)])
    assert line["seconds_per_1000_servers"] == pytest.approx(1.0, abs=0.01)
    assert line["extrapolated"] is True and line["largest_estate_within_900_s"] == 899_000  # (900 - 1) / 0.001
    with pytest.raises(ValueError, match="two fleet sizes"):
        growth([(1000, 2.0)])


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


def test_the_memory_fleet_measures_both_implementations_side_by_side(bench: tuple[Path, dict]) -> None:
    directory, _results = bench
    fleet = directory / "tiny-fleet.yaml"
    recording = cached_recording(load_scenario(fleet), directory / "cache", log=lambda _line: None)
    lines: list[str] = []

    memory = memory_results(cpu_share_support(), fleet, recording, lines.append)

    assert recording.from_cache and memory["servers"] == 12
    for impl in ("legacy", "refactored"):
        for key in (f"{impl}_s", f"peak_rss_mb_{impl}", f"traced_peak_mb_{impl}", f"sync_rss_mb_{impl}"):
            assert isinstance(memory[key], float) and memory[key] > 0, key
        assert memory[f"sync_rss_mb_{impl}"] < memory[f"peak_rss_mb_{impl}"]
    assert lines == [
        "replaying legacy and refactored over tiny-fleet side by side (latency off, unconstrained) for memory"
    ]
