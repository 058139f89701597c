"""The fleets the sweep does not replay, recorded in a process of their own while the sweep runs.

The memory sweep replays only the headline fleet and keeps replays within one core (`harness.bench.sweep`), so on
a fresh clone the other fleets (`fleet-50000` above all: minutes of moto) are recorded on the core it leaves free,
instead of before it, at a lower priority (nice 10) than the replays beside it. The recorder process uses
`cached_recording` as the bench itself does, so a fleet whose recording is fresh costs it only the freshness check;
the bench then reads the recordings from the cache, and records in its own process any the background process did
not leave fresh (it failed, or was not started).

`python -m harness.bench.background --cache-dir DIR SCENARIO...` is that process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.lambda_env import REPO_ROOT


class BackgroundRecordings:
    """A recorder process for some fleets, started now and waited for once the bench needs them."""

    def __init__(self, scenarios: Sequence[Path], cache_dir: Path, log: Callable[[str], None]) -> None:
        """Start recording `scenarios` (those not fresh in `cache_dir`) in a new process; none when empty."""
        self.log = log
        self.started = time.perf_counter()
        command = [sys.executable, "-m", "harness.bench.background", "--cache-dir", str(cache_dir)]
        self.process = subprocess.Popen([*command, *map(str, scenarios)], cwd=REPO_ROOT) if scenarios else None
        if scenarios:
            log(f"recording {', '.join(path.stem for path in scenarios)} in the background (if not cached) ...")

    def wait(self) -> float:
        """Wait for the recorder process; return how long it ran. A failure is logged (the bench records instead)."""
        if self.process is None:
            return 0.0
        code = self.process.wait()
        if code != 0:
            self.log(f"the background recordings failed (exit {code}): the bench records what is missing itself")
        return time.perf_counter() - self.started


def main(argv: list[str] | None = None) -> int:
    """Record each scenario given from the legacy into the cache unless its recording there is fresh."""
    from harness.bench.fleet import cached_recording
    from harness.world.scenario import load_scenario

    parser = argparse.ArgumentParser(description="record bench fleets into the cache (latency off)")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("scenarios", type=Path, nargs="+")
    args = parser.parse_args(argv)
    os.nice(10)  # the recording is not what the bench measures: it yields the CPU to the replays beside it
    for path in args.scenarios:
        cached_recording(load_scenario(path), args.cache_dir, lambda line: print(f"  [background] {line}", flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
