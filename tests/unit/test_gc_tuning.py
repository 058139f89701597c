"""Unit tests of `inventory_sync.gc_tuning.fewer_collections`: the threshold raised for the block, then restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from harness.lambda_env import import_lambda_module
from tests.unit.support import scenario


@pytest.fixture
def gc_tuning(sync_world: Any) -> Iterator[ModuleType]:
    """The module as the Lambda imports it (in an empty local AWS), the interpreter's thresholds put back after."""
    sync_world(scenario())
    saved = gc.get_threshold()
    try:
        yield import_lambda_module("inventory_sync.gc_tuning")
    finally:
        gc.set_threshold(*saved)


def test_the_first_generation_threshold_is_raised_inside_and_restored_after(gc_tuning: ModuleType) -> None:
    gc.set_threshold(700, 10, 10)

    with gc_tuning.fewer_collections():
        assert gc.get_threshold() == (gc_tuning.GEN0_THRESHOLD, 10, 10)

    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_already_set_is_never_lowered(gc_tuning: ModuleType) -> None:
    gc.set_threshold(gc_tuning.GEN0_THRESHOLD * 2, 5, 5)

    with gc_tuning.fewer_collections():
        assert gc.get_threshold() == (gc_tuning.GEN0_THRESHOLD * 2, 5, 5)


def test_the_threshold_is_restored_when_the_block_raises(gc_tuning: ModuleType) -> None:
    gc.set_threshold(700, 10, 10)

    with pytest.raises(RuntimeError), gc_tuning.fewer_collections():
        raise RuntimeError("the sync failed")

    assert gc.get_threshold() == (700, 10, 10)
