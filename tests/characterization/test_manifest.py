"""The characterization tests and the legacy are frozen: their hashes must match MANIFEST.sha256."""

from __future__ import annotations

from harness.lambda_env import REPO_ROOT
from harness.manifest import MANIFEST_PATH, UPDATE_COMMAND, compute_manifest, manifest_differences


def test_frozen_files_match_the_manifest() -> None:
    manifest = REPO_ROOT / MANIFEST_PATH
    assert manifest.is_file(), f"{MANIFEST_PATH.as_posix()} is missing; create it with `{UPDATE_COMMAND}`"
    problems = manifest_differences(manifest.read_text(encoding="utf-8"), compute_manifest(REPO_ROOT))
    assert not problems, (
        "The characterization tests and the legacy they pin are frozen (DESIGN.md, phase 0), but these differ "
        "from tests/characterization/MANIFEST.sha256:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended, regenerate the manifest with `{UPDATE_COMMAND}` and give the reason for "
        "changing frozen files in the commit message."
    )


def test_manifest_lists_itself_out_and_the_legacy_in() -> None:
    paths = [line.split("  ", 1)[1] for line in compute_manifest(REPO_ROOT).splitlines()]
    assert paths == sorted(paths)
    assert "lambda/query-handler/inventory_sync_legacy.py" in paths
    assert "tests/characterization/test_manifest.py" in paths
    assert MANIFEST_PATH.as_posix() not in paths
