"""Bench fleets: scenarios under `scenarios/bench/`, each recorded once from the legacy and cached.

The bench scenarios live apart from `scenarios/` (which the gate and the golden freshness tests scan): they are
large, and their recordings are a cache, not reviewed goldens. A recording is reused while its sidecar says it was
made from the same scenario (content hash, latency aside) and the same legacy module; otherwise it is recorded
again. Recording always runs with latency off: the latency profile only matters to the replays.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.experiment import record_scenario
from harness.golden import find_golden, golden_name, store_golden
from harness.golden_set import legacy_fingerprint
from harness.lambda_env import REPO_ROOT
from harness.matchers import is_write
from harness.world.scenario import Scenario

BENCH_SCENARIOS_DIR = REPO_ROOT / "scenarios" / "bench"
BENCH_DIR = REPO_ROOT / "bench"
CACHE_DIR = BENCH_DIR / ".cache"
SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Recording:
    """A cached recording of a bench fleet: where it is, its size, and how long recording it took."""

    scenario: str
    path: Path
    calls: int
    writes: int
    recorded_s: float
    from_cache: bool

    def summary(self) -> dict[str, Any]:
        """The recording as results.json reports it."""
        return {
            "scenario": self.scenario,
            "file": _display(self.path),
            "calls": self.calls,
            "writes": self.writes,
            "recorded_s": round(self.recorded_s, 2),
            "from_cache": self.from_cache,
            "size_mb": round(self.path.stat().st_size / 1e6, 1),
        }


def without_latency(scenario: Scenario) -> Scenario:
    """The scenario with its latency profile dropped (the world would otherwise sleep on every recorded call)."""
    return dataclasses.replace(scenario, latency_ms=MappingProxyType({}))


def fleet_size(scenario: Scenario) -> dict[str, Any]:
    """Accounts, regions, servers and the largest DRS page size of a fleet scenario."""
    regions = {region for account in scenario.accounts.values() for region in account.drs}
    return {
        "scenario": scenario.name,
        "accounts": len(scenario.target_accounts),
        "regions": len(regions),
        "servers": sum(spec.server_count for account in scenario.accounts.values() for spec in account.drs.values()),
        "page_size": max(
            (spec.page_size for account in scenario.accounts.values() for spec in account.drs.values()), default=0
        ),
    }


def cached_recording(scenario: Scenario, cache_dir: Path = CACHE_DIR, log: Callable[[str], None] = print) -> Recording:
    """The legacy's recording of `scenario` (latency off), from the cache when fresh, else recorded now."""
    recorded = without_latency(scenario)
    base = golden_name(scenario.name, "submission")
    expected = {"content_hash": recorded.content_hash(), "legacy_sha256": legacy_fingerprint()}
    path = find_golden(cache_dir, base)
    sidecar = cache_dir / (base + SIDECAR_SUFFIX)
    meta = _read_sidecar(sidecar)
    if path is not None and meta is not None and all(meta.get(key) == value for key, value in expected.items()):
        return Recording(scenario.name, path, int(meta["calls"]), int(meta["writes"]), float(meta["recorded_s"]), True)
    log(f"recording {scenario.name} from the legacy on the local AWS (latency off) ...")
    started = time.perf_counter()
    cassette = record_scenario(recorded, "legacy")
    recorded_s = time.perf_counter() - started
    written = store_golden(cassette, cache_dir, base)
    writes = sum(1 for interaction in cassette.interactions if is_write(interaction.operation))
    meta = {**expected, "calls": len(cassette.interactions), "writes": writes, "recorded_s": recorded_s}
    sidecar.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log(
        f"  recorded {len(cassette.interactions)} calls in {recorded_s:.1f} s (written in "
        f"{time.perf_counter() - started - recorded_s:.1f} s) to {_display(written)}"
    )
    return Recording(scenario.name, written, len(cassette.interactions), writes, recorded_s, False)


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    """A recording's sidecar, or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _display(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
