"""Build the query handler's deployment package, `dist/query-handler.zip`, byte for byte reproducibly.

`make package` runs this file (`python deploy/build_lambda.py [--output ZIP] [--work-dir DIR]`). The zip root is
what the Lambda runtime puts on `sys.path`:

- `index.py`, `inventory_sync/` (the refactored sync's package), `inventory_sync_legacy.py`: the contents of
  `lambda/query-handler/`;
- `shared/`: `lambda/shared/`;
- `harness/`: the harness modules `harness.shadow` imports, directly or inside functions, for
  `INVENTORY_SYNC_IMPL=shadow` (the local AWS in `harness/world/`, the CLI and the test tooling stay out);
- boto3 and botocore with their dependencies, and the third-party packages those harness modules need (deepdiff,
  with its dependencies), installed by pip from wheels built for the Lambda (CPython 3.12, manylinux2014 x86_64)
  at exactly the versions pinned in the constraints file (`constraints.txt`, or `--constraints`, or the
  `BUILD_LAMBDA_CONSTRAINTS` environment variable: `make test-sdk` builds with another SDK that way).

The SDK is bundled, as AWS advises for production functions, so the runtime cannot change botocore under the
function: the zip root comes first on the Lambda's `sys.path`, before the runtime's own boto3.

Entries are sorted with fixed timestamps and permissions, so two builds of the same tree give the same bytes.
The builder needs nothing but the standard library and pip; it imports nothing from the harness.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = REPO_ROOT / "lambda" / "query-handler"
SHARED_DIR = REPO_ROOT / "lambda" / "shared"
HARNESS_DIR = REPO_ROOT / "harness"
CONSTRAINTS = REPO_ROOT / "constraints.txt"
# Builds the package with another constraints file (the SDK matrix: `make test-sdk SDK=old|new`).
CONSTRAINTS_ENV = "BUILD_LAMBDA_CONSTRAINTS"
DEFAULT_OUTPUT = REPO_ROOT / "dist" / "query-handler.zip"
DEFAULT_WORK_DIR = REPO_ROOT / "build" / "query-handler"

# The harness module `index` imports for shadow mode; the package holds it and everything it imports.
SHADOW_ENTRY_MODULE = "harness.shadow"
# Harness packages whose modules are found at run time by name, not imported by statement: packaged whole.
DISCOVERED_PACKAGES = frozenset({"harness.approved"})
# Distributions pip installs into the package (their dependencies follow), each pinned in the constraints file:
# the SDK the sync runs with, and what shadow mode's harness modules import besides it.
VENDORED_REQUIREMENTS = ("boto3", "deepdiff")
# Third-party modules imported somewhere in the packaged harness that shadow mode never reaches, with the reason.
NOT_NEEDED_IN_LAMBDA = {
    "time_machine": "only harness.clock.frozen_clock imports it, and shadow mode replays with the clock running",
}
# The wheels the Lambda can load: CPython 3.12 on x86_64 (template.yaml: Runtime python3.12, x86_64).
LAMBDA_PLATFORM = ("--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.12")
# Fixed metadata of every zip entry: the earliest date a zip can hold, Unix permissions.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXECUTABLE_MODE = 0o100755
# Installed files that are no use in the Lambda (console scripts, bytecode caches).
DROPPED_PARTS = frozenset({"bin", "__pycache__"})


class BuildError(Exception):
    """The package cannot be built as specified (an unpinned or unexpected dependency, a pip failure)."""


def harness_modules(entry: str = SHADOW_ENTRY_MODULE) -> list[str]:
    """Every `harness` module `entry` reaches by import statements, top-level or inside functions, sorted.

    A reached package of `DISCOVERED_PACKAGES` brings every module in it: those are found at run time by name
    (the approved-divergence registry collects its `defect_*` modules), which no import statement shows.
    """
    seen: set[str] = set()
    pending = [entry]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for parent in _parents(name):
            pending.append(parent)
        if name in DISCOVERED_PACKAGES:
            pending.extend(f"{name}.{path.stem}" for path in sorted(_module_file(name).parent.glob("*.py")))
        for imported in _imports_of(_module_file(name)):
            pending.extend(candidate for candidate in _harness_candidates(imported) if _is_harness_module(candidate))
    return sorted(module for module in seen if not module.endswith(".__init__"))


def third_party_imports(modules: Iterable[str]) -> set[str]:
    """Top-level names the given harness modules import that are neither the standard library nor the harness."""
    names: set[str] = set()
    for module in modules:
        for imported in _imports_of(_module_file(module)):
            top = imported.split(".", 1)[0]
            if top and top != "harness" and top not in sys.stdlib_module_names and top != "__future__":
                names.add(top)
    return names


def check_dependencies(modules: Iterable[str], vendored_dir: Path) -> None:
    """Refuse a harness whose third-party imports are neither vendored (in `vendored_dir`) nor known to be unneeded."""
    vendored = vendored_top_levels(vendored_dir)
    unknown = third_party_imports(modules) - vendored - set(NOT_NEEDED_IN_LAMBDA)
    if unknown:
        raise BuildError(
            f"shadow mode's harness modules import {', '.join(sorted(unknown))}: add it to VENDORED_REQUIREMENTS "
            "(and pin it in constraints.txt), or to NOT_NEEDED_IN_LAMBDA with the reason"
        )


def vendored_top_levels(vendored_dir: Path) -> set[str]:
    """The importable top-level names pip installed into `vendored_dir` (packages and single-file modules)."""
    names = set()
    for path in vendored_dir.iterdir():
        if path.name.endswith(".dist-info") or path.name in DROPPED_PARTS:
            continue
        if path.is_dir() or path.suffix == ".py":
            names.add(path.name.removesuffix(".py"))
    return names


def constraints_file() -> Path:
    """The constraints the package is built with: `BUILD_LAMBDA_CONSTRAINTS` when set, else constraints.txt."""
    override = os.environ.get(CONSTRAINTS_ENV)
    return Path(override).resolve() if override else CONSTRAINTS


def install_vendored(target: Path, constraints: Path | None = None) -> None:
    """pip-install the vendored requirements for the Lambda's platform into `target` (emptied first)."""
    constraints = constraints or constraints_file()
    if not constraints.is_file():
        raise BuildError(f"constraints file {_display(constraints)} does not exist")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        *LAMBDA_PLATFORM,
        "--target",
        str(target),
        "--constraint",
        str(constraints),
        *VENDORED_REQUIREMENTS,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BuildError(f"pip could not install {', '.join(VENDORED_REQUIREMENTS)}:\n{completed.stderr.strip()}")
    check_pinned(target, constraints)


def check_pinned(target: Path, constraints: Path | None = None) -> None:
    """Every distribution pip installed has exactly the version the constraints pin (so every build is the same)."""
    constraints = constraints or constraints_file()
    pins = constraint_pins(constraints)
    problems = []
    for name, version in installed_distributions(target).items():
        pin = pins.get(_normalize(name))
        if pin != version:
            problems.append(f"{name} {version} is not pinned in {_display(constraints)} (pin: {pin})")
    if problems:
        raise BuildError("vendored dependencies: " + "; ".join(problems))


def installed_distributions(target: Path) -> dict[str, str]:
    """Distribution name -> version of everything pip installed into `target`, from the `.dist-info` names."""
    found = {}
    for dist_info in sorted(target.glob("*.dist-info")):
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        found[name] = version
    return found


def package_entries(vendored_dir: Path) -> dict[str, Path]:
    """Zip entry name -> source file, for every file of the package."""
    entries: dict[str, Path] = {}
    for source in sorted(HANDLER_DIR.rglob("*.py")):
        if "__pycache__" not in source.parts:
            entries[source.relative_to(HANDLER_DIR).as_posix()] = source
    for source in sorted(SHARED_DIR.glob("*.py")):
        entries[f"shared/{source.name}"] = source
    modules = harness_modules()
    check_dependencies(modules, vendored_dir)
    for module in modules:
        source = _module_file(module)
        entries[source.relative_to(REPO_ROOT).as_posix()] = source
    for source in sorted(vendored_dir.rglob("*")):
        relative = source.relative_to(vendored_dir)
        if source.is_file() and not DROPPED_PARTS.intersection(relative.parts) and source.suffix != ".pyc":
            name = relative.as_posix()
            if name in entries:
                raise BuildError(f"vendored file {name} would overwrite the package's own")
            entries[name] = source
    return entries


def write_zip(entries: dict[str, Path], output: Path) -> None:
    """Write the entries sorted by name, each with a fixed date, Unix permissions and the same compression."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = 3
            info.external_attr = (EXECUTABLE_MODE if name.endswith(".so") else FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes(), compresslevel=9)
    partial.replace(output)


def build_package(
    output: Path = DEFAULT_OUTPUT, work_dir: Path = DEFAULT_WORK_DIR, constraints: Path | None = None
) -> Path:
    """Build the deployment package at `output`, installing the vendored dependencies under `work_dir`.

    `constraints` defaults to `constraints_file()` (constraints.txt unless `BUILD_LAMBDA_CONSTRAINTS` names another).
    """
    vendored_dir = work_dir / "vendored"
    install_vendored(vendored_dir, constraints)
    write_zip(package_entries(vendored_dir), output)
    return output


def summary(path: Path) -> str:
    """Size, entry count, sha256 and top-level contents of a built package, for the person who ran the build."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    tops = sorted({name.split("/", 1)[0] + ("/" if "/" in name else "") for name in names})
    versions = dict(
        name.split("/", 1)[0].removesuffix(".dist-info").partition("-")[::2]
        for name in names
        if name.split("/", 1)[0].endswith(".dist-info")
    )
    return "\n".join(
        [
            f"{_display(path)}: {len(data):,} bytes ({unpacked:,} unpacked), {len(names)} files",
            f"sha256 {hashlib.sha256(data).hexdigest()}",
            f"SDK bundled: boto3 {versions.get('boto3', 'absent')}, botocore {versions.get('botocore', 'absent')}",
            "contents: " + " ".join(tops),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: build the package and print its summary; exit 1 with the reason when it cannot be built."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (dist/query-handler.zip)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="scratch directory for pip")
    parser.add_argument(
        "--constraints",
        type=Path,
        default=None,
        help=f"pins of the vendored distributions (default: ${CONSTRAINTS_ENV} if set, else constraints.txt)",
    )
    arguments = parser.parse_args(argv)
    constraints = arguments.constraints.resolve() if arguments.constraints else None
    try:
        output = build_package(arguments.output.resolve(), arguments.work_dir.resolve(), constraints)
    except BuildError as error:
        print(f"build_lambda: {error}", file=sys.stderr)
        return 1
    print(summary(output))
    return 0


def _module_file(name: str) -> Path:
    """The source file of harness module `name` (a module file, or a package's __init__.py)."""
    base = REPO_ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _is_harness_module(name: str) -> bool:
    """Whether `name` is a module or package of the harness."""
    if name.split(".", 1)[0] != "harness":
        return False
    base = REPO_ROOT.joinpath(*name.split("."))
    return (base / "__init__.py").is_file() or base.with_suffix(".py").is_file()


def _parents(name: str) -> Iterator[str]:
    """The packages containing module `name` (`a.b.c` -> `a.b`, `a`), imported before it."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        yield ".".join(parts[:end])


def _harness_candidates(imported: str) -> list[str]:
    """Module names an import may load: the module itself, for `from pkg import x` also `pkg.x`."""
    return [imported, *(_parents(imported))]


def _imports_of(path: Path) -> list[str]:
    """Absolute names a module imports, anywhere in it: `import a.b` -> a.b, `from a import b` -> a, a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def constraint_pins(constraints: Path | None = None) -> dict[str, str]:
    """Normalized distribution name -> pinned version, from the constraints file (default `constraints_file()`)."""
    pins: dict[str, str] = {}
    for line in (constraints or constraints_file()).read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9._-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[_normalize(match.group(1))] = match.group(2)
    return pins


def _normalize(name: str) -> str:
    """A distribution name in PEP 503 normal form (`Orderly_Set` -> `orderly-set`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _display(path: Path) -> str:
    """`path` relative to the repository when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(main())
