"""The bench's CPU share: a cgroup with Lambda's quota for a memory size, joined by a process, removed after.

Where this machine can make such a cgroup (root, a cpu controller) the real one is made, joined by a child process
and removed; where it cannot, the same calls must refuse with the reason `probe` gives. The refusals are also
tested on roots that cannot hold a cgroup (missing, or a plain directory).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench.cpu_share import (
    MB_PER_VCPU,
    PERIOD_US,
    SHARES_V1,
    WEIGHT_V2,
    CgroupRoot,
    CpuShare,
    CpuShareUnavailable,
    find_root,
    join,
    probe,
    quota_us,
    vcpus,
)


def test_the_quota_is_lambdas_share_of_the_memory_capped_at_the_cores() -> None:
    assert quota_us(MB_PER_VCPU, cores=2) == PERIOD_US  # one vCPU at 1,769 MB
    assert quota_us(512, cores=2) == 28943  # 0.29 of one
    assert quota_us(128, cores=2) == 7236
    assert quota_us(3008, cores=2) == 170040  # 1.70 vCPUs: still under two cores
    assert quota_us(10240, cores=2) == 2 * PERIOD_US  # 5.8 vCPUs, capped at the machine's two
    assert vcpus(512) == pytest.approx(0.2894, abs=1e-4)
    with pytest.raises(ValueError, match="positive"):
        quota_us(0)


def test_a_missing_root_is_refused_with_the_paths_looked_at(tmp_path: Path) -> None:
    missing = tmp_path / "no-cgroup-here"
    with pytest.raises(CpuShareUnavailable, match="no cgroup cpu controller") as refused:
        find_root((missing,))
    assert str(missing) in str(refused.value)
    with pytest.raises(CpuShareUnavailable, match="cannot make a cgroup"):
        CpuShare.create(512, CgroupRoot(missing, 1))
    assert probe(CgroupRoot(missing, 2)) is not None


@pytest.mark.parametrize("version", [1, 2])
def test_a_plain_directory_is_not_taken_for_a_cgroup(tmp_path: Path, version: int) -> None:
    # The root looks like a hierarchy, but mkdir under it gives a plain directory without control files.
    (tmp_path / "cpu.cfs_quota_us").write_text("-1")
    (tmp_path / "cgroup.controllers").write_text("cpu memory")
    (tmp_path / "cgroup.subtree_control").write_text("cpu")
    root = find_root((tmp_path,))
    assert root == CgroupRoot(tmp_path, 1)
    with pytest.raises(CpuShareUnavailable, match="is not a cgroup"):
        CpuShare.create(512, CgroupRoot(tmp_path, version), name="fake")
    assert not (tmp_path / "fake").exists()  # what was made is cleaned up
    with pytest.raises(CpuShareUnavailable, match="not a cgroup"):
        join(tmp_path / "elsewhere")
    reason = probe(CgroupRoot(tmp_path, version))
    assert reason is not None and "is not a cgroup" in reason


def test_a_cgroup_is_made_joined_and_removed_where_the_machine_allows() -> None:
    reason = probe()
    if reason is not None:
        # No cgroup here: creating one must fail with the reason the bench prints.
        with pytest.raises(CpuShareUnavailable) as refused:
            CpuShare.create(512)
        assert str(refused.value) == reason
        return
    share = CpuShare.create(512, cores=2)
    try:
        assert share.read_quota() == (28943, PERIOD_US)
        assert share.read_weight() == (SHARES_V1 if share.version == 1 else WEIGHT_V2)
        assert share.pids() == []
        # A child joins the cgroup itself, then reports the cgroup the kernel says it is in.
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from harness.bench.cpu_share import join; "
                "join(Path(sys.argv[1])); print(Path('/proc/self/cgroup').read_text())",
                str(share.path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert share.path.name in child.stdout
    finally:
        share.remove()
    assert not share.path.exists()
    share.remove()  # removing twice is harmless
