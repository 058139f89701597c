"""One botocore data loader for the whole process, so every new session reuses the service models already parsed.

Each botocore session normally builds its own loader and re-reads the JSON models (EC2's alone takes a large
part of a second). Worlds, cold starts and replays create many sessions; the models are read-only, so sharing
the loader changes nothing but the time spent.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.loaders
import botocore.session

_ORIGINAL_CREATE_LOADER = botocore.loaders.create_loader


@functools.cache
def _shared_loader(search_path_string: str | None) -> botocore.loaders.Loader:
    """The process-wide loader for one data path."""
    return _ORIGINAL_CREATE_LOADER(search_path_string)


def _create_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
    """Drop-in for botocore.loaders.create_loader that returns the shared loader."""
    return _shared_loader(search_path_string)


def share_botocore_loader() -> None:
    """Make every botocore session created from now on use the shared loader (idempotent)."""
    botocore.loaders.create_loader = _create_loader
    botocore.session.create_loader = _create_loader
