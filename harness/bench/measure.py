"""One implementation replayed from a fleet recording, in a process of its own so memory peaks never mix.

`measure_in_subprocess` starts `python -m harness.bench.measure` and reads back a `Measurement`:

- a **timed** replay on real threads (`threaded=True`), every call sleeping as the scenario's latency profile says,
  so concurrent calls overlap as they would against AWS: the run's seconds, every call's span (for the timeline),
  a digest of every write (to compare write sequences across processes) and of the outputs;
- **peak RSS** (`VmHWM`) of the process after the timed replay: the whole process, so it includes the recording
  held in memory (which dominates it at fleet sizes: `rss_at_start_mb` is what was resident with the recording
  loaded, before the replay started) with its answers prepared; each write is kept only as its digest (a call's
  parameters are dropped once it is answered, as botocore drops a sent request);
- the **CPU seconds** (user + system, every thread) the process spent during the timed replay, from `getrusage`;
- optionally under **Lambda's CPU share** (`--cgroup`, see `harness.bench.cpu_share`): the process joins the given
  cgroup just before the implementation is called (the recording's loading and the answers' preparation run
  unconstrained, as they are not the implementation's) and leaves it before a traced replay;
- optionally a **traced** replay, same settings, with `tracemalloc` on: the peak of what was allocated while the
  implementation ran, above what was live when it started, i.e. the sync's own memory. The recording and the
  replayer's index of it are excluded (loaded or built before), and each call's parameters are dropped from the
  replayer's list once the call is answered, as botocore drops a request it has sent. Added to `rss_baseline_mb`
  (the process before the recording was loaded: interpreter, botocore, harness) it estimates the resident memory
  the sync would need on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.approved.inventory_state import remember_scenario
from harness.bench.cpu_share import join
from harness.bench.fleet import without_latency
from harness.cassette import Cassette
from harness.divergences import answered_cassette, applicable, approved_divergences
from harness.golden import read_golden
from harness.impls import resolve_impl
from harness.lambda_env import REPO_ROOT
from harness.matchers import canonical_params, is_write
from harness.replay_session import replay
from harness.replayer import ObservedCall
from harness.world.scenario import load_scenario

# The traced replay runs this wrapper as its implementation, so tracing starts when the implementation does.
TRACED_ENTRY = "harness.bench.measure:traced_entry"


@dataclass(frozen=True)
class CallSpan:
    """One AWS call of a replay: what it was and when it ran, in seconds from the implementation's start."""

    service: str
    operation: str
    region: str
    identity: str
    write: bool
    start: float
    end: float


@dataclass
class Measurement:
    """What one implementation did over one recording, measured in its own process."""

    impl: str
    elapsed_s: float
    calls: int
    writes: int
    write_digests: list[str]
    outputs_digest: str
    unrecorded: int
    unused: int
    cpu_s: float
    rss_baseline_mb: float
    rss_at_start_mb: float
    peak_rss_mb: float
    traced_peak_mb: float | None = None
    spans: list[CallSpan] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        """Rebuild a Measurement from its JSON form."""
        spans = [CallSpan(**span) for span in data.get("spans", [])]
        return cls(**{**data, "spans": spans})


def write_digest(call: ObservedCall, params_text: str | None = None) -> str:
    """A short digest of one write: service, region, identity, operation and canonical parameters.

    `params_text` is `canonical_params(call.params)` when the caller already has it (the replayer's exact-match text).
    """
    params_text = canonical_params(call.params) if params_text is None else params_text
    text = "\x1f".join((call.service, call.region, call.identity, call.operation, params_text))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def first_difference(left: list[str], right: list[str]) -> int | None:
    """The first position where two write sequences differ (a length difference counts), or None."""
    for position, (one, other) in enumerate(zip(left, right, strict=False)):
        if one != other:
            return position
    return None if len(left) == len(right) else min(len(left), len(right))


def measure(
    golden: Path,
    impl: str,
    latency_ms: Callable[[str, str], float] | None,
    *,
    traced: bool = False,
    cgroup: Path | None = None,
) -> Measurement:
    """Replay `impl` from `golden` on real threads with `latency_ms` per call; measure time, CPU, calls and memory.

    With `cgroup`, the timed replay runs inside that cgroup (joined just before the implementation starts); the
    traced replay runs outside it again.
    """
    rss_baseline_mb = _rss_mb("VmRSS")  # the interpreter with the harness and botocore imported
    recorded = read_golden(golden)
    # The refactored sync fixes some legacy defects on purpose (harness/approved/); calls such a fix adds (the
    # cleanup's Scan of every account read) are answered as the gate answers them. The comparison of the two write
    # sequences stays strict.
    cassette = answered_cassette(recorded, applicable(approved_divergences(), recorded.header))
    rss_at_start_mb = _rss_mb("VmRSS")
    spans: list[CallSpan] = []
    lock = threading.Lock()
    raw: list[tuple[ObservedCall, float, float]] = []
    written: dict[int, str] = {}

    def on_call(call: ObservedCall, started: float, finished: float) -> None:
        """Keep the call and its times (converted once the run's start is known), but not its parameters.

        A real run drops a request once sent; kept live, 9,000 rows of parameters would weigh on every garbage
        collection of the run. A write is digested at once, from the canonical text the replayer matched it by (the
        replay is exact, so that text is `canonical_params` of its parameters): a hash, on the caller's thread.
        """
        if is_write(call.operation):
            written[id(call)] = write_digest(call, call.match_text or None)
        call.params = {}
        call.match_text = ""
        with lock:
            raw.append((call, started, finished))

    cpu_at_start: list[float] = []

    def on_start() -> None:
        """The implementation starts now: join Lambda's CPU share if one is given, and read the CPU clock."""
        if cgroup is not None:
            join(cgroup)
        cpu_at_start.append(_cpu_seconds())

    emulate = latency_ms is not None
    run = replay(
        cassette, impl, threaded=True, latency_ms=latency_ms, on_call=on_call, emulate_aws=emulate, on_start=on_start
    )
    cpu_s = _cpu_seconds() - cpu_at_start[0]
    if cgroup is not None:
        join(cgroup.parent)  # back where the bench made the cgroup, so it can be removed and tracing is unconstrained
    for call, started, finished in sorted(raw, key=lambda entry: entry[1]):
        spans.append(
            CallSpan(
                call.service,
                call.operation,
                call.region,
                call.identity,
                is_write(call.operation),
                round(started - run.started, 6),
                round(finished - run.started, 6),
            )
        )
    digests = [written[id(call)] for call in run.observed if is_write(call.operation)]
    outputs = canonical_params(run.outputs.to_dict())
    result = Measurement(
        impl=impl,
        elapsed_s=run.elapsed_s,
        calls=len(run.observed),
        writes=len(digests),
        write_digests=digests,
        outputs_digest=hashlib.sha256(outputs.encode("utf-8")).hexdigest(),
        unrecorded=len(run.unrecorded),
        unused=len(run.unused),
        cpu_s=cpu_s,
        rss_baseline_mb=rss_baseline_mb,
        rss_at_start_mb=rss_at_start_mb,
        peak_rss_mb=_rss_mb("VmHWM"),
        spans=spans,
    )
    del run
    raw.clear()
    if traced:
        result.traced_peak_mb = traced_peak_mb(cassette, impl, latency_ms)
    return result


class _Tracing:
    """What the traced wrapper needs to know and tells back (one traced replay per process at a time)."""

    impl: str = "legacy"
    peak_bytes: int = 0


def traced_entry() -> Any:
    """The implementation under `tracemalloc`: its peak allocation above what was live when it started."""
    function = resolve_impl(_Tracing.impl)
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    try:
        return function()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        _Tracing.peak_bytes = peak - baseline


def traced_peak_mb(cassette: Cassette, impl: str, latency_ms: Callable[[str, str], float] | None) -> float:
    """Replay `impl` again with tracemalloc on (the cassette, loaded before, is not traced); its peak in MB."""
    _Tracing.impl = impl

    def forget_params(call: ObservedCall, _started: float, _finished: float) -> None:
        """Drop an answered call's parameters: a real run does not keep them, only this harness does."""
        call.params = {}
        call.match_text = ""

    tracemalloc.start()
    try:
        replay(
            cassette,
            TRACED_ENTRY,
            threaded=True,
            latency_ms=latency_ms,
            on_call=forget_params,
            emulate_aws=latency_ms is not None,
        )
    finally:
        tracemalloc.stop()
    return _Tracing.peak_bytes / 1e6


def _cpu_seconds() -> float:
    """User plus system CPU seconds of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb(field_name: str) -> float:
    """This process's VmRSS or VmHWM (peak) in MB, from /proc (ru_maxrss where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def measure_in_subprocess(
    golden: Path,
    impl: str,
    scenario: Path,
    *,
    latency: bool = True,
    traced: bool = False,
    cgroup: Path | None = None,
    nice: int = 0,
) -> Measurement:
    """Run `measure` in a fresh Python process (the scenario file supplies the latency profile).

    With `cgroup` (made by the caller, who removes it after), the timed replay runs under that cgroup's CPU quota;
    with `nice`, the process runs at that lower priority (for a measurement of memory, not time).
    """
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as directory:
        out = Path(directory) / "measurement.json"
        command = [
            sys.executable,
            "-m",
            "harness.bench.measure",
            "--golden",
            str(golden),
            "--impl",
            impl,
            "--scenario",
            str(scenario),
            "--out",
            str(out),
        ]
        command += [] if latency else ["--no-latency"]
        command += ["--traced"] if traced else []
        command += ["--cgroup", str(cgroup)] if cgroup is not None else []
        command += ["--nice", str(nice)] if nice else []
        completed = subprocess.run(command, cwd=REPO_ROOT, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"measuring {impl} on {golden.name} failed (exit {completed.returncode})")
        return Measurement.from_dict(json.loads(out.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.bench.measure`: measure one implementation and write the Measurement as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--golden", type=Path, required=True)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--scenario", type=Path, required=True, help="scenario file with the latency profile")
    parser.add_argument("--no-latency", action="store_true", help="replay with no latency at all")
    parser.add_argument("--traced", action="store_true", help="also replay under tracemalloc for the traced peak")
    parser.add_argument("--cgroup", type=Path, help="cgroup to run the timed replay in (Lambda's CPU share)")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by this much")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.nice(args.nice)
    scenario = load_scenario(args.scenario)
    latency = None if args.no_latency else scenario.latency_for
    # The recording was made latency-free (bench.fleet); answers for approved fixes need that world's rows.
    remember_scenario(without_latency(scenario))
    result = measure(args.golden, args.impl, latency, traced=args.traced, cgroup=args.cgroup)
    args.out.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this `__main__` copy's: the traced wrapper is resolved by module name.
    from harness.bench.measure import main as module_main

    raise SystemExit(module_main())
