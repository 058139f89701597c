"""The production registry of approved divergences: one `defect_NN_<slug>` module per fixed legacy defect.

Each module holds the divergence(s) of one fix as a tuple named `DIVERGENCES`: its name, the defect it fixes, a
description a reviewer reads, and the short predicate that says which changes of a golden are this fix's (built on
`facts`). What the fix changes in each affected golden is its approved record (`records`). `registered_divergences()`
collects them in module-name order (defect number first), which is the order `attribute` asks them in.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.divergences import ApprovedDivergence


def registered_divergences() -> tuple[ApprovedDivergence, ...]:
    """Every `DIVERGENCES` of the `defect_*` modules of this package, in module-name order."""
    collected: list[ApprovedDivergence] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if module_info.name.startswith("defect_"):
            collected.extend(importlib.import_module(f"{__name__}.{module_info.name}").DIVERGENCES)
    return tuple(collected)
