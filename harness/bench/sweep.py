"""Timed replays under Lambda's CPU share: each implementation at each memory size, in a process and cgroup of its own.

`measure_at` makes the cgroup for a memory size (`harness.bench.cpu_share`), runs one measuring process that joins
it when the implementation starts, and removes the cgroup once the process has exited. With `memory_mb=None`, or
where no cgroup can be made, the replay runs on the whole machine (unconstrained).

`run_packed` runs several such replays side by side while their CPU quotas add up to at most `CORE_BUDGET`: each
replay can never use more than its quota, and the small shares (128 MB is 0.07 of a vCPU: the legacy takes minutes
there, nearly all of it waiting) no longer queue behind each other. Jobs start longest first (smallest memory, the
legacy before the refactored), each as soon as its quota fits beside what runs. A replay with no quota, or a quota
of a core or more, counts as one core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.bench.cpu_share import CgroupRoot, CpuShare, CpuShareUnavailable, find_root, probe, quota_us, vcpus
from harness.bench.measure import Measurement, measure_in_subprocess

# The CPU (in cores) that replays running side by side may be allowed together: one core and a quarter, so a
# one-core replay has the 128 MB ones beside it, and the recorder running beside the sweep at a lower priority
# (`harness.bench.background`) keeps three quarters of the other core at the least.
CORE_BUDGET = 1.25


@dataclass(frozen=True)
class Job:
    """One measuring process to run: an implementation over a recording at a memory size (None: unconstrained)."""

    memory_mb: int | None
    impl: str
    golden: Path
    scenario: Path
    traced: bool = False


@dataclass(frozen=True)
class CpuShareSupport:
    """Whether this machine can enforce Lambda's CPU share, where, and if not, why."""

    root: CgroupRoot | None
    reason: str | None

    @property
    def available(self) -> bool:
        """A cgroup with a CPU quota can be made."""
        return self.root is not None

    def summary(self) -> dict[str, object]:
        """As results.json reports it."""
        return {
            "available": self.available,
            "cgroup_version": self.root.version if self.root else None,
            "reason": self.reason,
        }


def cpu_share_support() -> CpuShareSupport:
    """Find the cgroup hierarchy and check that a quota cgroup can be made and removed there."""
    try:
        root = find_root()
    except CpuShareUnavailable as missing:
        return CpuShareSupport(None, str(missing))
    reason = probe(root)
    return CpuShareSupport(None if reason else root, reason)


def measure_at(
    support: CpuShareSupport,
    memory_mb: int | None,
    golden: Path,
    impl: str,
    scenario: Path,
    *,
    latency: bool = True,
    traced: bool = False,
    nice: int = 0,
) -> Measurement:
    """One measuring process for `impl`, its timed replay capped at `memory_mb`'s CPU share (None: uncapped)."""
    if memory_mb is None or support.root is None:
        return measure_in_subprocess(golden, impl, scenario, latency=latency, traced=traced, nice=nice)
    share = CpuShare.create(memory_mb, support.root)
    try:
        return measure_in_subprocess(
            golden, impl, scenario, latency=latency, traced=traced, cgroup=share.path, nice=nice
        )
    finally:
        share.remove()


def cores_of(job: Job, support: CpuShareSupport) -> float:
    """The cores a job may use: its quota, or one core when it runs unconstrained or traced (at most one core)."""
    if job.memory_mb is None or not support.available or job.traced:
        return 1.0
    return min(quota_us(job.memory_mb) / 100_000, 1.0)


def run_packed(support: CpuShareSupport, jobs: Sequence[Job], log: Callable[[str], None]) -> list[Measurement]:
    """Run the jobs side by side while their cores add up to at most CORE_BUDGET; their measurements, in job order.

    Whenever a job ends, the first waiting job (in `jobs` order) whose cores fit beside the running ones starts.
    """
    finished = threading.Condition()
    in_use = [0.0]

    def run(job: Job, cores: float) -> Measurement:
        """Measure one job, then free its cores."""
        try:
            measurement = measure_at(support, job.memory_mb, job.golden, job.impl, job.scenario, traced=job.traced)
            shown = f"{job.memory_mb:>4} MB ({vcpus(job.memory_mb):.2f} vCPU)" if job.memory_mb else "unconstrained"
            log(
                f"  {job.impl:<10} {job.scenario.stem} at {shown}: "
                f"{measurement.elapsed_s:7.2f} s wall, {measurement.cpu_s:6.2f} s CPU"
            )
            return measurement
        finally:
            with finished:
                in_use[0] -= cores
                finished.notify_all()

    futures: dict[int, Future[Measurement]] = {}
    waiting = list(range(len(jobs)))
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        while waiting:
            with finished:
                startable = [index for index in waiting if _fits(cores_of(jobs[index], support), in_use[0])]
                if not startable:
                    finished.wait()
                    continue
                index = startable[0]
                cores = cores_of(jobs[index], support)
                in_use[0] += cores
            waiting.remove(index)
            futures[index] = pool.submit(run, jobs[index], cores)
    return [futures[index].result() for index in range(len(jobs))]


def _fits(cores: float, in_use: float) -> bool:
    """Nothing runs, or `cores` more fit within CORE_BUDGET beside what does."""
    return in_use <= 1e-9 or in_use + cores <= CORE_BUDGET + 1e-9


def sweep(
    support: CpuShareSupport,
    memory_sizes: Sequence[int],
    golden: Path,
    scenario: Path,
    impls: Sequence[str],
    log: Callable[[str], None],
    *,
    traced_at: int | None = None,
) -> dict[int, dict[str, Measurement]]:
    """Every implementation at every memory size (smallest, the longest, first), traced only at `traced_at`."""
    jobs = [
        Job(memory_mb, impl, golden, scenario, traced=memory_mb == traced_at)
        for memory_mb in sorted(memory_sizes)
        for impl in impls
    ]
    measured: dict[int, dict[str, Measurement]] = {}
    for job, measurement in zip(jobs, run_packed(support, jobs, log), strict=True):
        assert job.memory_mb is not None
        measured.setdefault(job.memory_mb, {})[job.impl] = measurement
    return measured
