"""Seals: each golden's digest as the recorder wrote it, so a golden changed by hand is refused, not replayed.

A golden is the legacy's recorded behaviour, never edited by hand. An approved divergence covers what a fix changes
against a golden; it cannot tell a fix from an edit of the golden itself, and an edit of a response field no sync
reads changes no replay at all. So a directory of goldens is *sealed* when it holds a `SEALS.sha256`: one line per
golden, `<sha256>  <file name>` as `sha256sum` writes them, sorted by name. The digest is over the golden's JSON
text (decompressed: a golden kept plain or gzipped has the same seal).

- The recorder writes a golden's seal with the golden (`harness.golden.store_golden` and `write_golden`, when the
  directory is sealed), under a lock on the directory, so parallel recordings (`make goldens`) keep every line.
  Nothing else writes seals: there is no command that seals the goldens as they are.
- The gate and `replay` check a golden of a sealed directory before replaying it (`seal_problem`): one whose text
  differs from its seal, or that has no seal there, gets the verdict EDITED and fails the gate, whatever the
  implementation and whatever the approved divergences. Goldens elsewhere (a test's scratch copy, a bench cache)
  are judged by their replay only.
- `golden/` is sealed, and must be: without its seals file every golden there is EDITED;
  `tests/harness/test_golden_seals.py` checks that its seals and its goldens agree.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.lambda_env import REPO_ROOT

SEALS_FILE = "SEALS.sha256"
# The project's goldens (harness.golden.GOLDEN_DIR, which imports this module).
PROJECT_GOLDENS = REPO_ROOT / "golden"


def text_digest(text: bytes) -> str:
    """The seal of a golden's JSON text (UTF-8 bytes, decompressed)."""
    return hashlib.sha256(text).hexdigest()


def file_digest(path: Path) -> str:
    """The seal of the golden at `path`: the digest of its text, gunzipped when the name ends in `.gz`."""
    raw = path.read_bytes()
    return text_digest(gzip.decompress(raw) if path.name.endswith(".gz") else raw)


def read_seals(directory: Path) -> dict[str, str] | None:
    """The seals of a directory by golden file name, or None when the directory is not sealed."""
    seals_path = directory / SEALS_FILE
    if not seals_path.is_file():
        return None
    seals: dict[str, str] = {}
    for line in seals_path.read_text(encoding="utf-8").splitlines():
        digest, separator, name = line.partition("  ")
        if separator and digest and name:
            seals[name] = digest
    return seals


def _write_seals(directory: Path, seals: dict[str, str]) -> None:
    """Rewrite the directory's seals file (atomically), one sorted line per golden."""
    text = "".join(f"{digest}  {name}\n" for name, digest in sorted(seals.items()))
    temporary = directory / (SEALS_FILE + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(directory / SEALS_FILE)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (other recorders of it wait) for the block."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def seal(path: Path, text: bytes) -> None:
    """Record the seal of the golden just written to `path` (its text `text`), if its directory is sealed.

    The other form's seal (`x.json` for `x.json.gz` and back) is dropped when that file is gone.
    """
    directory = path.parent
    with _locked(directory):
        seals = read_seals(directory)
        if seals is None:
            return
        seals[path.name] = text_digest(text)
        other = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name + ".gz"
        if other in seals and not (directory / other).exists():
            del seals[other]
        _write_seals(directory, seals)


def seal_problem(path: Path) -> str | None:
    """Why the golden at `path` is not as recorded (its directory is sealed), or None (intact, or not sealed).

    The project's `golden/` must be sealed: without its seals file, every golden there is refused.
    """
    seals = read_seals(path.parent)
    if seals is None:
        if path.parent.resolve() == PROJECT_GOLDENS.resolve():
            return f"{PROJECT_GOLDENS / SEALS_FILE} is missing: the project's goldens are sealed by the recorder"
        return None
    where = path.parent / SEALS_FILE
    recorded = seals.get(path.name)
    if recorded is None:
        return f"{where} has no seal for it: goldens are written by the recorder, which seals them"
    if file_digest(path) != recorded:
        return f"its content is not what the recorder wrote (the seal in {where} differs): goldens are never edited"
    return None
