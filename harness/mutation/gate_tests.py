"""The gate as pytest tests, one per golden, for mutmut to run (not part of the project's own suite).

Collected only in the mutation scratch copy, whose pytest configuration names this file; `make test` never sees it.
"""

from __future__ import annotations

import pytest

from harness.mutation.plugin import deadline_for
from harness.mutation.suite import deadline, judge_golden, ordered_goldens

GOLDENS = {path.name: path for path in ordered_goldens()}


@pytest.mark.parametrize("golden", list(GOLDENS))
def test_golden(golden: str) -> None:
    """The refactored sync replayed against one golden is equivalent or approved, within its deadline."""
    with deadline(deadline_for(golden), golden):
        outcome = judge_golden(GOLDENS[golden])
    assert outcome.passed, f"{golden}: DIVERGENT {outcome.story}"
