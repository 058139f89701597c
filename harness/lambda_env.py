"""The Lambda's code as the harness sees it: import path, environment, and a cold start between runs."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_ROOT = REPO_ROOT / "lambda"
HANDLER_DIR = LAMBDA_ROOT / "query-handler"
# Top-level module names of the deployed zip: the handler's modules and the shared package.
LAMBDA_MODULES = ("index", "inventory_sync", "inventory_sync_legacy", "shared")


def ensure_import_path() -> None:
    """Put lambda/ and lambda/query-handler/ on sys.path, as the Lambda runtime has the zip root."""
    for directory in (HANDLER_DIR, LAMBDA_ROOT):
        if directory.is_dir() and str(directory) not in sys.path:
            sys.path.insert(0, str(directory))


def purge_lambda_modules() -> None:
    """Forget every imported Lambda module, so module-level clients, tables and caches start afresh."""
    for name in list(sys.modules):
        if name.split(".", 1)[0] in LAMBDA_MODULES:
            del sys.modules[name]


def import_lambda_module(name: str) -> ModuleType:
    """Import one of the Lambda's modules by its zip-root name (e.g. `index`, `shared.cross_account`)."""
    ensure_import_path()
    return importlib.import_module(name)


@contextmanager
def lambda_environment(environment: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the block, restoring them after."""
    saved = {key: os.environ.get(key) for key in environment}
    try:
        for key, value in environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def cold_start(environment: Mapping[str, str | None]) -> Iterator[None]:
    """A fresh Lambda container for the block: the environment set, Lambda modules re-imported on first use.

    Afterwards the modules imported before the block are put back, so a warm process (a test session, or the
    Lambda itself running a shadow replay) keeps its own module-level clients and caches.
    """
    ensure_import_path()
    saved = {name: module for name, module in sys.modules.items() if name.split(".", 1)[0] in LAMBDA_MODULES}
    with lambda_environment(environment):
        purge_lambda_modules()
        try:
            yield
        finally:
            purge_lambda_modules()
            sys.modules.update(saved)
