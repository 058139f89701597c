"""Approved records judged exactly, through the real CLI: no edit of a golden or of its record passes, a lost fix fails.

Each test copies a golden and its approved record out of `golden/` (so no seal protects them), edits one thing, and
replays the copy with `python -m harness replay` into the legacy and the refactored sync.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.approved.records import fixed_behaviour, make_record, read_record, record_path
from harness.cli import main
from harness.divergences import ApprovalError, apply_changes, approved_divergences
from harness.gate import judge_golden
from harness.golden import GOLDEN_DIR, read_golden

Document = dict[str, Any]
HERE = "tests.harness.test_approved_records"


def copy_out(tmp_path: Path, name: str) -> Path:
    """A golden and its approved record copied into `tmp_path` (unsealed), side by side as in `golden/`."""
    (tmp_path / "approved").mkdir()
    shutil.copy(GOLDEN_DIR / name, tmp_path / name)
    shutil.copy(record_path(GOLDEN_DIR / name), record_path(tmp_path / name))
    return tmp_path / name


def edit(path: Path, change: Callable[[Document], None]) -> None:
    """Rewrite a JSON file (golden or record) with one change."""
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def replay_exit(path: Path, impl: str) -> int:
    """The exit code of `python -m harness replay` of a golden into `impl`."""
    return main(["replay", "--golden", str(path), "--impl", impl])


def first(document: Document, test: Callable[[Document], bool]) -> Document:
    """The first interaction of a golden passing `test`."""
    return next(interaction for interaction in document["interactions"] if test(interaction))


def put_status_count(document: Document) -> None:
    """A region-status PutItem's serverCount changed (the field defect 4's fix changes too)."""
    item = first(document, lambda i: i["operation"] == "PutItem" and "lastChecked" in i["params"]["Item"])
    item["params"]["Item"]["serverCount"] = {"N": str(int(item["params"]["Item"]["serverCount"]["N"]) + 7)}


def inventory_hostname(document: Document) -> None:
    """An inventory row's hostname changed in a BatchWriteItem (a write no fix changes)."""
    batch = first(document, lambda i: "source-server-inventory" in i["params"].get("RequestItems", {}))
    batch["params"]["RequestItems"]["source-server-inventory"][0]["PutRequest"]["Item"]["hostname"] = {"S": "edited"}


def drs_response(document: Document) -> None:
    """A DRS listing's server hostname changed (a read's response)."""
    listing = first(document, lambda i: i["operation"] == "DescribeSourceServers" and i["response"].get("items"))
    hints = listing["response"]["items"][0]["sourceProperties"]["identificationHints"]
    hints["hostname"] = "edited-host"


def synced_count(document: Document) -> None:
    """The outputs' totalSynced changed."""
    body = json.loads(document["outputs"]["result"]["body"])
    body["totalSynced"] += 1
    document["outputs"]["result"]["body"] = json.dumps(body)


def test_a_copy_as_recorded_passes_into_both_and_the_legacy_needs_no_divergence(tmp_path: Path) -> None:
    path = copy_out(tmp_path, "demo-two-accounts.json")

    assert replay_exit(path, "legacy") == 0
    assert replay_exit(path, "refactored") == 0
    assert judge_golden(path, read_golden(path), "legacy").approved == ()
    names = [divergence.name for divergence in judge_golden(path, read_golden(path), "refactored").approved]
    assert names == ["defect-1-cleanup-every-account", "defect-4-region-status-running-total"]


@pytest.mark.parametrize("change", [put_status_count, inventory_hostname, drs_response, synced_count])
@pytest.mark.parametrize("impl", ["legacy", "refactored"])
def test_an_edited_golden_is_divergent(tmp_path: Path, change: Callable[[Document], None], impl: str) -> None:
    path = copy_out(tmp_path, "demo-two-accounts.json")
    edit(path, change)

    assert replay_exit(path, impl) == 1


def test_an_edit_of_the_very_field_a_fix_changes_is_divergent(tmp_path: Path) -> None:
    # The record checks the legacy side of each write it replaces: the serverCount defect 4's fix rewrites, edited
    # in the golden, no longer matches it.
    path = copy_out(tmp_path, "region-status-overwrite.json")
    record = read_record(path)
    assert record is not None
    at = next(c.at for c in record.changes if c.kind == "replace" and c.operation == "PutItem")

    def replaced_count(document: Document) -> None:
        """The replaced PutItem's serverCount changed in the golden."""
        item = document["interactions"][at]["params"]["Item"]
        item["serverCount"] = {"N": str(int(item["serverCount"]["N"]) + 7)}

    edit(path, replaced_count)

    verdict = judge_golden(path, read_golden(path), "refactored")
    assert verdict.verdict == "DIVERGENT"
    assert verdict.uncovered[0].kind == "approval"
    assert replay_exit(path, "legacy") == 1


def fixed_count(record: Document) -> None:
    """The fixed side of the record's first replaced PutItem gets another serverCount."""
    change = next(c for c in record["changes"] if c["kind"] == "replace" and c["now"]["operation"] == "PutItem")
    change["now"]["params"]["Item"]["serverCount"] = {"N": "999"}


def wrong_divergence(record: Document) -> None:
    """A change credited to another divergence than the one whose predicate accepts it."""
    record["changes"][0]["divergence"] = "defect-10-nic-without-ips"


def dropped_change(record: Document) -> None:
    """A change left out of the record."""
    record["changes"].pop(0)


@pytest.mark.parametrize("change", [fixed_count, wrong_divergence, dropped_change])
def test_an_edited_record_is_divergent(tmp_path: Path, change: Callable[[Document], None]) -> None:
    path = copy_out(tmp_path, "demo-two-accounts.json")
    edit(record_path(path), change)

    assert replay_exit(path, "refactored") == 1
    assert replay_exit(path, "legacy") == 0  # the legacy never reads a record


def test_an_edited_record_in_a_sealed_directory_is_refused(tmp_path: Path) -> None:
    path = copy_out(tmp_path, "demo-two-accounts.json")
    shutil.copy(GOLDEN_DIR / "approved" / "SEALS.sha256", tmp_path / "approved" / "SEALS.sha256")
    assert replay_exit(path, "refactored") == 0
    text = record_path(path).read_text(encoding="utf-8")
    record_path(path).write_text(text.replace('"changes": [', '"changes": [ '), encoding="utf-8")

    assert replay_exit(path, "refactored") == 1


def test_without_its_record_a_golden_with_fixes_is_divergent(tmp_path: Path) -> None:
    path = copy_out(tmp_path, "demo-two-accounts.json")
    record_path(path).unlink()

    assert replay_exit(path, "legacy") == 0
    assert replay_exit(path, "refactored") == 1


def without_running_totals() -> Any:
    """The refactored sync with defect 4's fix reverted: each account's region rows carry its own count only."""
    import importlib

    sync = importlib.import_module("inventory_sync")
    real = sync.regions.record_region_statuses

    def own_counts(account_id: Any, statuses: dict[str, Any], now: str, *totals: Any) -> None:
        """Record the statuses without the running totals."""
        real(account_id, statuses, now)

    sync.regions.record_region_statuses = own_counts
    try:
        return sync.sync_source_server_inventory()
    finally:
        sync.regions.record_region_statuses = real


def test_a_fix_that_goes_missing_fails_the_gate() -> None:
    path = GOLDEN_DIR / "region-status-overwrite.json"

    verdict = judge_golden(path, read_golden(path), f"{HERE}:without_running_totals")

    assert verdict.verdict == "DIVERGENT"
    assert judge_golden(path, read_golden(path), "refactored").verdict == "approved"


def test_recording_again_from_the_records_answers_gives_the_same_record() -> None:
    path = GOLDEN_DIR / "stale-cleanup-multi-account.json"
    golden, record = read_golden(path), read_record(path)
    assert record is not None
    answers = apply_changes(golden, record.changes, record.outputs)

    again = make_record(path, golden, fixed_behaviour(golden, answers))

    assert again.to_text() == record.to_text()


def test_a_change_no_divergence_accepts_is_refused_when_recording() -> None:
    path = GOLDEN_DIR / "demo-two-accounts.json"
    golden, record = read_golden(path), read_record(path)
    assert record is not None
    fixed = apply_changes(golden, record.changes, record.outputs)
    at = next(
        n for n, i in enumerate(fixed.interactions) if "source-server-inventory" in i.params.get("RequestItems", {})
    )
    batch = fixed.interactions[at]
    fixed.interactions[at] = replace(batch, params={**batch.params, "ReturnConsumedCapacity": "TOTAL"})  # no fix does

    with pytest.raises(ApprovalError, match="no approved divergence's"):
        make_record(path, golden, fixed)


def test_every_kept_record_names_divergences_of_the_registry_and_applies_to_its_golden() -> None:
    names = {divergence.name for divergence in approved_divergences()}
    records = sorted((GOLDEN_DIR / "approved").glob("*.json*"))
    assert len(records) == 96
    for path in records[:12]:
        data = json.loads(gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes())
        assert {change["divergence"] for change in data["changes"]} <= names, path.name
