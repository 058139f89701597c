"""Seals: a golden changed since the recorder wrote it is EDITED and fails the gate, into any implementation.

The goldens here are real ones (`golden/demo-two-accounts.json`, two accounts: its replay into the refactored sync
passes with approved divergences, defect 4's among them), stored by the recorder's own `store_golden` into a sealed
scratch directory, then edited in place as a hand edit would.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from harness.approved.records import record_path
from harness.cli import main
from harness.gate import gate_row, golden_paths, judge
from harness.golden import GOLDEN_DIR, read_golden, store_golden, write_golden
from harness.golden_seals import SEALS_FILE, file_digest, read_seals, seal, seal_problem

DEMO = GOLDEN_DIR / "demo-two-accounts.json"


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    """A sealed directory holding the demo golden, stored there by the recorder (so sealed by it), and its record."""
    directory = tmp_path / "golden"
    directory.mkdir()
    (directory / SEALS_FILE).write_text("", encoding="utf-8")
    store_golden(read_golden(DEMO), directory, DEMO.name)
    shutil.copytree(record_path(DEMO).parent, record_path(directory / DEMO.name).parent)
    return directory


def edit(path: Path, change) -> None:
    """Rewrite the golden at `path` with `change(document)` applied, as a hand edit would."""
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def region_status_count_plus_seven(document: dict) -> None:
    """The issue's edit: another serverCount in the first region-status PutItem."""
    for interaction in document["interactions"]:
        item = interaction.get("params", {}).get("Item", {})
        if interaction["operation"] == "PutItem" and "lastChecked" in item:
            item["serverCount"] = {"N": str(int(item["serverCount"]["N"]) + 7)}
            return
    raise AssertionError("no region-status PutItem in the golden")


def unread_drs_field(document: dict) -> None:
    """An edit no sync can see: the tags of the first DRS source server listed (no inventory field reads them)."""
    for interaction in document["interactions"]:
        items = (interaction.get("response") or {}).get("items")
        if interaction["operation"] == "DescribeSourceServers" and items:
            items[0]["tags"] = {"edited": "by hand"}
            return
    raise AssertionError("no DRS source server in the golden")


def test_golden_is_sealed_and_every_seal_matches_its_golden() -> None:
    seals = read_seals(GOLDEN_DIR)

    assert seals is not None, f"{GOLDEN_DIR / SEALS_FILE} is missing: golden/ must be sealed"
    assert sorted(seals) == [path.name for path in golden_paths()]
    assert all(seal_problem(path) is None for path in golden_paths())


def test_the_recorder_seals_what_it_stores(sealed: Path) -> None:
    stored = sealed / DEMO.name

    assert read_seals(sealed) == {DEMO.name: file_digest(DEMO)}
    assert seal_problem(stored) is None
    assert gate_row("refactored", stored).passed


@pytest.mark.parametrize("impl", ["legacy", "refactored"])
def test_an_edit_a_fix_also_changes_is_edited_not_approved(sealed: Path, impl: str) -> None:
    golden = sealed / DEMO.name
    edit(golden, region_status_count_plus_seven)

    row = gate_row(impl, golden)

    assert row.verdict == "EDITED" and not row.passed and not row.uses
    assert "goldens are never edited" in row.first_difference


def test_an_edit_no_replay_can_see_is_edited(sealed: Path) -> None:
    golden = sealed / DEMO.name
    edit(golden, unread_drs_field)

    # The replay alone cannot tell: the edited field is read by neither sync.
    assert judge(read_golden(golden), "legacy").passed
    assert gate_row("legacy", golden).verdict == "EDITED"


def test_a_golden_without_a_seal_in_a_sealed_directory_is_edited(sealed: Path) -> None:
    copy = sealed / "demo-copy.json"
    copy.write_bytes(DEMO.read_bytes())

    row = gate_row("legacy", copy)

    assert row.verdict == "EDITED" and "has no seal for it" in row.first_difference


def test_goldens_outside_a_sealed_directory_are_judged_by_their_replay(tmp_path: Path) -> None:
    copy = tmp_path / DEMO.name
    copy.write_bytes(DEMO.read_bytes())
    edit(copy, unread_drs_field)

    assert seal_problem(copy) is None
    assert gate_row("legacy", copy).verdict == "equivalent"


def test_replay_and_gate_exit_1_on_an_edited_golden(sealed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(sealed / DEMO.name, region_status_count_plus_seven)

    assert main(["replay", "--golden", str(sealed / DEMO.name), "--impl", "refactored"]) == 1
    assert "EDITED" in capsys.readouterr().out
    assert main(["gate", "--impl", "refactored", "--golden-dir", str(sealed), "--jobs", "1"]) == 1
    assert "1 EDITED" in capsys.readouterr().out


def test_a_golden_written_compressed_is_sealed_by_its_text(sealed: Path) -> None:
    compressed = write_golden(read_golden(DEMO), sealed / (DEMO.stem + "-copy.json.gz"))

    assert read_seals(sealed)[compressed.name] == file_digest(DEMO)
    assert seal_problem(compressed) is None


def test_recorders_sealing_at_once_keep_every_seal(sealed: Path) -> None:
    names = [f"golden-{number}.json" for number in range(16)]

    threads = [threading.Thread(target=seal, args=(sealed / name, name.encode("utf-8"))) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(read_seals(sealed)) == {DEMO.name, *names}


def test_an_unsealed_directory_gets_no_seals_file(tmp_path: Path) -> None:
    store_golden(read_golden(DEMO), tmp_path, DEMO.name)

    assert read_seals(tmp_path) is None
    assert not (tmp_path / SEALS_FILE).exists()


def test_the_projects_goldens_are_refused_without_their_seals_file(monkeypatch: pytest.MonkeyPatch) -> None:
    real_read_seals = read_seals

    def as_if_deleted(directory: Path) -> dict[str, str] | None:
        """golden/'s seals file gone; any other directory as it is."""
        return None if directory.resolve() == GOLDEN_DIR.resolve() else real_read_seals(directory)

    monkeypatch.setattr("harness.golden_seals.read_seals", as_if_deleted)

    problem = seal_problem(DEMO)
    assert problem is not None and "SEALS.sha256 is missing" in problem
    assert gate_row("legacy", DEMO).verdict == "EDITED"
