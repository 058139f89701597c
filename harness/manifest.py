"""The hash manifest freezing the characterization tests and the legacy they pin.

`tests/characterization/MANIFEST.sha256` lists, in `sha256sum` format and sorted by path (relative to the repo
root), the SHA-256 of every file under `tests/characterization/` (except the manifest itself and bytecode
caches) and of `lambda/query-handler/inventory_sync_legacy.py`. A test compares it with the tree, so an edit to
any of them fails the suite until the manifest is regenerated on purpose:

    python -m harness.manifest --write

and the commit that does so says why the frozen files changed.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

CHARACTERIZATION_DIR = Path("tests/characterization")
MANIFEST_PATH = CHARACTERIZATION_DIR / "MANIFEST.sha256"
LEGACY_PATH = Path("lambda/query-handler/inventory_sync_legacy.py")
UPDATE_COMMAND = "python -m harness.manifest --write"


def frozen_files(repo_root: Path) -> list[Path]:
    """The frozen files, as paths relative to `repo_root`, sorted: the characterization files and the legacy."""
    root = Path(repo_root)
    found = [LEGACY_PATH]
    for path in (root / CHARACTERIZATION_DIR).rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or relative == MANIFEST_PATH:
            continue
        if "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
            continue
        found.append(relative)
    return sorted(found, key=lambda relative: relative.as_posix())


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def compute_manifest(repo_root: Path | str) -> str:
    """The manifest text for the tree at `repo_root`: one `<sha256>  <path>` line per frozen file, sorted."""
    root = Path(repo_root)
    return "".join(f"{file_sha256(root / relative)}  {relative.as_posix()}\n" for relative in frozen_files(root))


def parse_manifest(text: str) -> dict[str, str]:
    """Path -> hash from manifest text (blank lines ignored)."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, path = line.partition("  ")
        entries[path.strip()] = digest.strip()
    return entries


def manifest_differences(recorded: str, current: str) -> list[str]:
    """One sentence per file whose hash differs, that is new, or that is gone, sorted by path."""
    before, after = parse_manifest(recorded), parse_manifest(current)
    problems: list[str] = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            problems.append(f"{path}: listed in the manifest but no longer exists")
        elif path not in before:
            problems.append(f"{path}: new file, not in the manifest")
        elif before[path] != after[path]:
            problems.append(f"{path}: content changed (manifest {before[path][:12]}..., now {after[path][:12]}...)")
    return problems


def main(argv: list[str] | None = None) -> int:
    """CLI: print the manifest, `--write` it to MANIFEST_PATH, or `--check` it (exit 1 listing differences)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.manifest", description="Hash manifest of the frozen characterization tests and legacy."
    )
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="repository root")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {MANIFEST_PATH.as_posix()}")
    action.add_argument("--check", action="store_true", help="compare the manifest with the tree")
    arguments = parser.parse_args(argv)
    text = compute_manifest(arguments.root)
    target = arguments.root / MANIFEST_PATH
    if arguments.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {MANIFEST_PATH.as_posix()} ({len(text.splitlines())} files)")
        return 0
    if arguments.check:
        recorded = target.read_text(encoding="utf-8") if target.is_file() else ""
        problems = manifest_differences(recorded, text)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
