"""Lambda's CPU share of a memory size, enforced on a process by a cgroup CPU quota.

Lambda gives a function CPU in proportion to its configured memory: one vCPU at 1,769 MB, so 512 MB gets 0.29 of
one and 128 MB 0.07. The bench reproduces that with a CFS quota: `quota = period x memory / 1769` microseconds of
CPU per 100,000 us period, capped at the machine's cores. cgroup v1 (a `cpu` hierarchy with `cpu.cfs_quota_us`) and
v2 (`cpu.max`, the `cpu` controller enabled in the parent) are both handled.

Lambda guarantees a function its share; a shared machine does not. Each cgroup is therefore also weighted ten times
the default (`cpu.shares` 10240 in v1, `cpu.weight` 1000 in v2), so the measured process gets its share ahead of
other work on the machine, and never more than its quota.

`CpuShare.create` makes one cgroup per measured process; the process joins it itself (`join`, writing its pid into
`cgroup.procs`) when its timed part starts, and the bench removes the cgroup once the process has exited. Where no
cgroup can be made (not root, no cpu controller, a read-only hierarchy) `CpuShareUnavailable` says why in one line.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

# Lambda's memory per vCPU: at 1,769 MB a function has the equivalent of one full vCPU.
MB_PER_VCPU = 1769
PERIOD_US = 100_000
# The memory sizes the bench sweeps: Lambda's smallest, the template's former default, two midpoints, the one-vCPU
# point and the largest size of the old console range.
MEMORY_SIZES_MB = (128, 512, 1024, 1769, 3008)
# Where the cpu controller lives: cgroup v1 mounts it apart (one of the first two), v2 has one unified tree.
DEFAULT_ROOTS = (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup/cpu,cpuacct"), Path("/sys/fs/cgroup"))
NAME_PREFIX = "drs-inventory-bench-"
# Ten times the default weight (v1 cpu.shares 1024, v2 cpu.weight 100): the share first, capped by the quota.
SHARES_V1 = 10240
WEIGHT_V2 = 1000


class CpuShareUnavailable(RuntimeError):
    """No cgroup with a CPU quota can be made here; the message says why, in one line."""


def vcpus(memory_mb: int) -> float:
    """The vCPUs Lambda gives `memory_mb` of memory."""
    return memory_mb / MB_PER_VCPU


def quota_us(memory_mb: int, cores: int | None = None) -> int:
    """CPU microseconds per period for `memory_mb`, capped at `cores` full cores (default: this machine's)."""
    if memory_mb <= 0:
        raise ValueError(f"memory size must be a positive number of MB, got {memory_mb}")
    cores = cores or os.cpu_count() or 1
    return min(round(PERIOD_US * memory_mb / MB_PER_VCPU), cores * PERIOD_US)


@dataclass(frozen=True)
class CgroupRoot:
    """A hierarchy where cgroups with a CPU quota can be made: its directory and cgroup version (1 or 2)."""

    path: Path
    version: int


def find_root(candidates: tuple[Path, ...] = DEFAULT_ROOTS) -> CgroupRoot:
    """The first candidate with a usable cpu controller, or CpuShareUnavailable naming what was looked for."""
    for path in candidates:
        if (path / "cpu.cfs_quota_us").is_file():
            return CgroupRoot(path, 1)
        controllers = path / "cgroup.controllers"
        if controllers.is_file() and "cpu" in _read(controllers).split():
            return CgroupRoot(path, 2)
    shown = ", ".join(str(path) for path in candidates)
    raise CpuShareUnavailable(f"no cgroup cpu controller (cgroup v1 cpu.cfs_quota_us or v2 cpu.max) under {shown}")


@dataclass(frozen=True)
class CpuShare:
    """One cgroup whose CPU quota is Lambda's share of `memory_mb`."""

    path: Path
    version: int
    memory_mb: int
    quota_us: int
    period_us: int = PERIOD_US

    @classmethod
    def create(
        cls, memory_mb: int, root: CgroupRoot | None = None, *, cores: int | None = None, name: str | None = None
    ) -> CpuShare:
        """Make a cgroup under `root` (found when None) with `memory_mb`'s quota; CpuShareUnavailable if it cannot."""
        root = root or find_root()
        quota = quota_us(memory_mb, cores)
        path = root.path / (name or f"{NAME_PREFIX}{memory_mb}mb-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            if root.version == 2:
                _enable_cpu_controller(root.path)
            path.mkdir()
        except OSError as error:
            raise CpuShareUnavailable(f"cannot make a cgroup under {root.path}: {error.strerror or error}") from None
        share = cls(path, root.version, memory_mb, quota)
        try:
            share._write_quota()
        except (OSError, CpuShareUnavailable) as error:
            share.remove()
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise CpuShareUnavailable(f"cannot set a CPU quota in {path}: {reason}") from None
        return share

    def _write_quota(self) -> None:
        """Write period and quota into the cgroup's control files (which the kernel must have made)."""
        if self.version == 1:
            period, quota = self.path / "cpu.cfs_period_us", self.path / "cpu.cfs_quota_us"
            if not quota.is_file():
                raise CpuShareUnavailable(f"{self.path} is not a cgroup (no cpu.cfs_quota_us after mkdir)")
            period.write_text(str(self.period_us), encoding="ascii")
            quota.write_text(str(self.quota_us), encoding="ascii")
            (self.path / "cpu.shares").write_text(str(SHARES_V1), encoding="ascii")
            return
        limit = self.path / "cpu.max"
        if not limit.is_file():
            raise CpuShareUnavailable(f"{self.path} is not a cgroup with the cpu controller (no cpu.max)")
        limit.write_text(f"{self.quota_us} {self.period_us}", encoding="ascii")
        (self.path / "cpu.weight").write_text(str(WEIGHT_V2), encoding="ascii")

    def read_quota(self) -> tuple[int, int]:
        """(quota, period) in microseconds as the kernel reports them."""
        if self.version == 1:
            return int(_read(self.path / "cpu.cfs_quota_us")), int(_read(self.path / "cpu.cfs_period_us"))
        quota, period = _read(self.path / "cpu.max").split()
        return int(quota), int(period)

    def read_weight(self) -> int:
        """The cgroup's CPU weight as the kernel reports it (v1 cpu.shares, v2 cpu.weight)."""
        return int(_read(self.path / ("cpu.shares" if self.version == 1 else "cpu.weight")))

    def pids(self) -> list[int]:
        """The processes in the cgroup now."""
        return [int(line) for line in _read(self.path / "cgroup.procs").split()]

    def remove(self) -> None:
        """Remove the cgroup (its processes must have exited); a cgroup already gone is fine."""
        try:
            self.path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise CpuShareUnavailable(f"cannot remove {self.path}: {error.strerror or error}") from None

    @property
    def vcpus(self) -> float:
        """The CPUs the quota allows."""
        return self.quota_us / self.period_us


def join(cgroup: Path, pid: int | None = None) -> None:
    """Move process `pid` (default: this one, every thread of it) into the cgroup at `cgroup`."""
    procs = cgroup / "cgroup.procs"
    if not procs.is_file():
        raise CpuShareUnavailable(f"{cgroup} is not a cgroup (no cgroup.procs)")
    try:
        procs.write_text(str(pid or os.getpid()), encoding="ascii")
    except OSError as error:
        raise CpuShareUnavailable(f"cannot join {cgroup}: {error.strerror or error}") from None


def probe(root: CgroupRoot | None = None) -> str | None:
    """None when a CPU-quota cgroup can be made and removed here; otherwise the one-line reason."""
    try:
        CpuShare.create(MB_PER_VCPU, root).remove()
    except CpuShareUnavailable as reason:
        return str(reason)
    return None


def _enable_cpu_controller(root: Path) -> None:
    """cgroup v2: have `root` hand the cpu controller to its children (a no-op when it already does)."""
    subtree = root / "cgroup.subtree_control"
    if "cpu" not in _read(subtree).split():
        subtree.write_text("+cpu", encoding="ascii")


def _read(path: Path) -> str:
    """A control file's content, stripped."""
    return path.read_text(encoding="ascii").strip()
