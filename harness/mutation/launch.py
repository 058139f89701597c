"""`python harness/mutation/launch.py run ...`: mutmut's command line, its mutants taken in a seeded random order.

mutmut tests the mutants in order of their estimated cost (the clean time of the goldens that reach their
function), cheapest first. When the budget stops a run early, the mutants left unchecked are then those of the
functions most goldens reach (the orchestrator, the rows, the writes), and the checked ones are no random sample.
This launcher replaces that sort key with a hash of the mutant's name and a seed, so the mutants are taken in an
order that is random but the same for the same seed: whatever part of a sample a budget allows is a random part
of it. mutmut is pinned (the `mutation` extra); the sort key it replaces is `mutmut.__main__.estimated_worst_case_time`,
and the launcher refuses to run when that function is not there.

The driver runs it as a script (not `-m`), so mutmut's process imports nothing of the harness: the gate tests import
the harness from mutmut's `mutants/` tree, as they would under the `mutmut` console script.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ORDER_SEED_VARIABLE = "MUTATION_ORDER_SEED"
SORT_KEY = "estimated_worst_case_time"


def random_rank(mutant_name: str, seed: str) -> float:
    """A reproducible pseudo-random number in [0, 1) for a mutant and a seed: its place in the run's order."""
    digest = hashlib.sha256(f"{seed}:{mutant_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def shuffle_mutmut_order(module: object, seed: str) -> None:
    """Make `module` (mutmut's `__main__`) sort its mutants by `random_rank` instead of their estimated cost."""
    if not callable(getattr(module, SORT_KEY, None)):
        raise SystemExit(f"mutmut has no {SORT_KEY}() to replace: this launcher knows mutmut 3.8 (the pinned one)")
    setattr(module, SORT_KEY, lambda mutant_name: random_rank(mutant_name, seed))


def main() -> int:
    """Run mutmut's command line (arguments as for `mutmut`) with the shuffled order (seed from the environment)."""
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # run as a script: its directory is no place to import the harness's modules from
    import mutmut.__main__ as mutmut_main

    shuffle_mutmut_order(mutmut_main, os.environ.get(ORDER_SEED_VARIABLE, "0"))
    sys.argv[0] = "mutmut"
    mutmut_main.cli()
    return 0


if __name__ == "__main__":
    sys.exit(main())
