"""Unit tests of `shared.botocore_internals.fewer_collections`: the threshold raised for the block, then restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from harness.lambda_env import import_lambda_module
from tests.unit.support import scenario


@pytest.fixture
def internals(sync_world: Any) -> Iterator[ModuleType]:
    """The module as the Lambda imports it (in an empty local AWS), the interpreter's thresholds put back after."""
    sync_world(scenario())
    saved = gc.get_threshold()
    try:
        yield import_lambda_module("shared.botocore_internals")
    finally:
        gc.set_threshold(*saved)


def test_the_first_generation_threshold_is_raised_inside_and_restored_after(internals: ModuleType) -> None:
    gc.set_threshold(700, 10, 10)

    with internals.fewer_collections():
        assert gc.get_threshold() == (internals.GEN0_THRESHOLD, 10, 10)

    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_already_set_is_never_lowered(internals: ModuleType) -> None:
    gc.set_threshold(internals.GEN0_THRESHOLD * 2, 5, 5)

    with internals.fewer_collections():
        assert gc.get_threshold() == (internals.GEN0_THRESHOLD * 2, 5, 5)


def test_the_threshold_is_restored_when_the_block_raises(internals: ModuleType) -> None:
    gc.set_threshold(700, 10, 10)

    with pytest.raises(RuntimeError), internals.fewer_collections():
        raise RuntimeError("the sync failed")

    assert gc.get_threshold() == (700, 10, 10)
