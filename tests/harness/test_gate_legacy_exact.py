"""The legacy is judged against its own goldens exactly: no approved divergence ever covers a difference there.

Every golden is recorded from the legacy, so a difference between the legacy and one of its goldens is a change of
the golden itself (or of the legacy), never a fix; an approved divergence must not turn it into a pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.gate import judge
from harness.golden import read_golden
from harness.lambda_env import REPO_ROOT

GOLDEN = REPO_ROOT / "golden" / "demo-two-accounts.json"


def _edited_copy(tmp_path: Path) -> Path:
    """A copy of the golden whose first region-status PutItem records another serverCount."""
    document = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for interaction in document["interactions"]:
        item = interaction.get("params", {}).get("Item", {})
        if interaction["operation"] == "PutItem" and "lastChecked" in item:
            item["serverCount"] = {"N": str(int(item["serverCount"]["N"]) + 7)}
            break
    else:
        raise AssertionError("the golden has no region-status PutItem to edit")
    copy = tmp_path / GOLDEN.name
    copy.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return copy


def test_the_legacy_reproduces_its_golden_with_no_divergence() -> None:
    verdict = judge(read_golden(GOLDEN), "legacy")

    assert verdict.passed
    assert not verdict.approved


def test_an_edited_golden_fails_into_the_legacy_even_where_a_fix_changes_the_same_field(tmp_path: Path) -> None:
    verdict = judge(read_golden(_edited_copy(tmp_path)), "legacy")

    assert not verdict.passed
    assert not verdict.approved
