"""The production registry of approved divergences: one `defect_NN_<slug>` module per fixed legacy defect.

Each module holds the divergence(s) of one fix as a tuple named `DIVERGENCES`, next to the matchers and answers
that make them precise, so a fix and its approval are reviewed together in one file. `registered_divergences()`
collects them in module-name order (defect number first), which is the order `triage` asks them in.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.divergences import ApprovedDivergence


def registered_divergences() -> tuple[ApprovedDivergence, ...]:
    """Every `DIVERGENCES` of the `defect_*` modules of this package, in module-name order."""
    collected: list[ApprovedDivergence] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if not module_info.name.startswith("defect_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        collected.extend(module.DIVERGENCES)
    return tuple(collected)
