"""A sample of the mutants, stratified by function, and the score's 95% confidence interval.

A full run replays the goldens for every one of some 2,000 mutants; a sample of a few hundred estimates the score in
a fraction of the time. The sample is stratified by the function a mutant lives in: each function gets a share of
the sample proportional to its mutants (largest remainders), and at least one, so no function goes unseen; within a
function the mutants are drawn at random with a fixed seed, so the same file and seed give the same sample. The
interval is Wilson's score interval, which stays inside [0, 1] and behaves for scores near 100%, where the normal
approximation does not.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable

DEFAULT_SEED = 20260101
# The 97.5th percentile of the standard normal distribution: a two-sided 95% interval.
Z_95 = 1.959963984540054


def allocate(sizes: dict[str, int], total: int) -> dict[str, int]:
    """How many mutants of each function to draw for a sample of `total`: proportional, each at least one.

    Functions without mutants get none. The proportional quotas are rounded by largest remainders; a function whose
    quota rounds to zero still gets one, taken back from the function with the largest allocation (ties: the
    first in name order). When `total` is below the number of functions, every function gets exactly one (the sample
    is then larger than asked); at or above the number of mutants, every mutant is drawn.
    """
    if total < 1:
        raise ValueError(f"sample size must be at least 1, got {total}")
    strata = {name: size for name, size in sorted(sizes.items()) if size > 0}
    population = sum(strata.values())
    if total >= population:
        return dict(strata)
    if total <= len(strata):
        return dict.fromkeys(strata, 1)
    quotas = {name: total * size / population for name, size in strata.items()}
    shares = {name: math.floor(quota) for name, quota in quotas.items()}
    by_remainder = sorted(strata, key=lambda name: (-(quotas[name] - shares[name]), name))
    for name in by_remainder[: total - sum(shares.values())]:
        shares[name] += 1
    order = {name: index for index, name in enumerate(strata)}
    for name in strata:
        if shares[name] == 0:
            donor = max(strata, key=lambda other: (shares[other], -order[other]))
            shares[donor] -= 1
            shares[name] = 1
    return shares


def stratified_sample(
    names: Iterable[str], size: int, stratum_of: Callable[[str], str], seed: int = DEFAULT_SEED
) -> list[str]:
    """Draw `size` of `names` stratified by `stratum_of` (see `allocate`), reproducibly for a seed; sorted."""
    strata: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        strata.setdefault(stratum_of(name), []).append(name)
    shares = allocate({stratum: len(members) for stratum, members in strata.items()}, size)
    generator = random.Random(seed)
    chosen: list[str] = []
    for stratum in sorted(strata):
        chosen.extend(generator.sample(strata[stratum], shares[stratum]))
    return sorted(chosen)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a proportion `successes / trials` (95% by default); (0, 1) with no trials."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"expected 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return 0.0, 1.0
    proportion = successes / trials
    denominator = 1 + z * z / trials
    centre = (proportion + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(proportion * (1 - proportion) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)
