"""The scratch copy mutmut works in: the package under test at its root, with the harness, goldens and Lambda beside it.

mutmut names a mutant after the module path of its file, and its trampolines compare that name with the running
function's `__module__`. The sync is imported as the package `inventory_sync` (the Lambda's zip root), so the copy
puts the package at the scratch root, and leaves it out of `lambda/query-handler/`: the harness's import path then
finds mutmut's trampolined copy (`mutants/inventory_sync/`). The real files are only ever read.

`lambda/shared/` is copied as it is and not mutated: the helpers only the sync uses there work on botocore's
internals, which a golden replay cannot see; their unit tests test them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection
from pathlib import Path

from harness.approved.records import APPROVED_DIR
from harness.golden import GOLDEN_DIR
from harness.lambda_env import HANDLER_DIR, REPO_ROOT

PACKAGE = "inventory_sync"
TARGET = HANDLER_DIR / PACKAGE
# What the gate needs beside the sync, copied into mutmut's `mutants/` tree.
ALSO_COPY = ("harness", "lambda", "golden", "scenarios")
# Lines whose statements are not mutated: logging calls. The sync's log lines reach no golden (the harness compares
# calls, writes and the result, not logs), and the logging module never raises for a bad message.
DO_NOT_MUTATE_PATTERNS = (r"^\s*logger\.(debug|info|warning|error|exception|critical)\(",)
TEST_MODULE = "harness/mutation/gate_tests.py"
PYTEST_ARGS = (
    "-p",
    "no:harness",
    "-p",
    "no:cacheprovider",
    "-p",
    "harness.mutation.plugin",
    "--tb=line",
)
CACHE_NAMES = ("__pycache__", ".pytest_cache", ".mypy_cache")


def source_files(package: Path = TARGET) -> list[Path]:
    """The package's Python files, relative to its parent (`inventory_sync/orchestrator.py`, ...), sorted.

    These are the paths mutmut knows the files by in a scratch copy, and the paths the report names.
    """
    if not package.is_dir():
        raise FileNotFoundError(f"{package}: expected the sync's package directory (one module per responsibility)")
    return sorted(
        path.relative_to(package.parent) for path in package.rglob("*.py") if not set(path.parts) & set(CACHE_NAMES)
    )


def module_file(module: str) -> str:
    """The scratch-relative file of a dotted module name as mutmut writes it (`inventory_sync.ec2` ->
    `inventory_sync/ec2.py`; the package itself -> `inventory_sync/__init__.py`)."""
    path = Path(*module.split("."))
    return (path / "__init__.py" if module == PACKAGE else path.with_suffix(".py")).as_posix()


def goldens_larger_than(limit_bytes: int, directory: Path = GOLDEN_DIR) -> list[str]:
    """The names of the golden files in `directory` bigger than `limit_bytes` on disk, sorted."""
    return sorted(path.name for path in directory.iterdir() if path.is_file() and path.stat().st_size > limit_bytes)


def _ignorer(left_out_goldens: Collection[str]) -> Callable[[str, list[str]], set[str]]:
    """copytree filter: no caches, not the sync's package in lambda/query-handler/, no golden left out or its record."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        """The names of `directory` not to copy."""
        ignored = {name for name in names if name in CACHE_NAMES}
        if Path(directory).resolve() == HANDLER_DIR.resolve() and PACKAGE in names:
            ignored.add(PACKAGE)
        if Path(directory).resolve() in (GOLDEN_DIR.resolve(), (GOLDEN_DIR / APPROVED_DIR).resolve()):
            ignored.update(name for name in names if name in left_out_goldens)  # a golden left out, and its record
        return ignored

    return ignore


def toml_list(values: tuple[str, ...] | list[str]) -> str:
    """A TOML array of basic strings."""
    escaped = [value.replace("\\", "\\\\").replace('"', '\\"') for value in values]
    return "[" + ", ".join(f'"{value}"' for value in escaped) + "]"


def scratch_pyproject(timeout_multiplier: float, timeout_constant: float) -> str:
    """The scratch copy's pyproject.toml: mutmut's settings and the pytest settings of the gate tests."""
    return "\n".join(
        [
            "# Written by harness/mutation/scratch.py for one mutation run; not the project's pyproject.toml.",
            "[tool.mutmut]",
            f"source_paths = {toml_list([PACKAGE])}",
            f"also_copy = {toml_list(ALSO_COPY)}",
            f"do_not_mutate_patterns = {toml_list(DO_NOT_MUTATE_PATTERNS)}",
            f"pytest_add_cli_args = {toml_list(PYTEST_ARGS)}",
            f"pytest_add_cli_args_test_selection = {toml_list([TEST_MODULE])}",
            f"timeout_multiplier = {timeout_multiplier}",
            f"timeout_constant = {timeout_constant}",
            "use_git_change_detection = false",
            "track_dependencies = false",
            "",
            "[tool.pytest.ini_options]",
            f"python_files = {toml_list(['gate_tests.py'])}",
            'addopts = ""',
            "",
        ]
    )


def build_scratch(
    scratch: Path,
    source: Path = TARGET,
    *,
    timeout_multiplier: float = 10.0,
    timeout_constant: float = 10.0,
    left_out_goldens: Collection[str] = (),
) -> Path:
    """Lay out a fresh scratch copy at `scratch` (emptied first) with the package `source` as the code to mutate.

    The goldens named in `left_out_goldens` are not copied, so the mutation suite never replays them.
    """
    if scratch.resolve() == REPO_ROOT.resolve() or REPO_ROOT.resolve().is_relative_to(scratch.resolve()):
        raise ValueError(f"scratch directory {scratch} would contain the repository itself")
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: expected the sync's package directory to mutate")
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for name in ALSO_COPY:
        shutil.copytree(REPO_ROOT / name, scratch / name, ignore=_ignorer(left_out_goldens))
    shutil.copytree(source, scratch / PACKAGE, ignore=shutil.ignore_patterns(*CACHE_NAMES))
    (scratch / "pyproject.toml").write_text(scratch_pyproject(timeout_multiplier, timeout_constant), encoding="utf-8")
    return scratch
