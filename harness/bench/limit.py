"""The write-bound limit: the fastest any implementation with the legacy's write sequence can run, by latency model.

The refactor must keep the legacy's DynamoDB writes, in the same order. Taking that order as strictly sequential
(each write waits for the previous one), no implementation can finish before:

- **head**: the reads the first write depends on. In the legacy the first write is the first account's region
  status, which needs the active regions (Scan of the region status table), the target accounts (Scan), the
  account's credentials (GetCallerIdentity, then AssumeRole) and all of its regions listed (DRS pages: regions in
  parallel, so the longest region's page chain counts). Taken from the recording: every read made before the first
  recorded write, DynamoDB and STS reads one after the other, DRS and EC2 calls chained per (service, account,
  region) with the longest chain counting.
- **writes**: every recorded write's latency, summed.
- **tail**: the stale cleanup's Scan of the inventory table (every page), which reads what the writes left and so
  follows the last inventory write.

Everything is derived from the recorded legacy golden (its call and page counts) and the bench's latency profile;
CPU time is ignored, so the limit is a floor, not a target to meet exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.cassette import Cassette
from harness.matchers import is_write

LatencyFn = Callable[[str, str], float]
# Services whose calls for different regions or accounts the legacy already makes concurrently.
CONCURRENT_SERVICES = ("drs", "ec2")


@dataclass(frozen=True)
class WriteBoundLimit:
    """The limit and its parts, in seconds, with the counts they come from."""

    head_s: float
    writes_s: float
    tail_s: float
    writes: int
    write_operations: dict[str, int] = field(default_factory=dict)
    head_calls: dict[str, int] = field(default_factory=dict)
    tail_pages: int = 0

    @property
    def total_s(self) -> float:
        """Head, writes and tail one after the other."""
        return self.head_s + self.writes_s + self.tail_s

    def summary(self) -> dict[str, Any]:
        """The limit as results.json reports it."""
        return {
            "limit_s": round(self.total_s, 3),
            "head_s": round(self.head_s, 3),
            "writes_s": round(self.writes_s, 3),
            "tail_s": round(self.tail_s, 3),
            "writes": self.writes,
            "write_operations": dict(sorted(self.write_operations.items())),
            "head_calls": dict(sorted(self.head_calls.items())),
            "tail_scan_pages": self.tail_pages,
        }


def write_bound_limit(cassette: Cassette, latency_ms: LatencyFn) -> WriteBoundLimit:
    """The write-bound limit of `cassette` (a legacy recording) under the latency profile `latency_ms`."""
    interactions = cassette.interactions
    inventory_table = cassette.header.get("environment", {}).get("SOURCE_SERVER_INVENTORY_TABLE")
    write_positions = [index for index, interaction in enumerate(interactions) if is_write(interaction.operation)]
    first_write = write_positions[0] if write_positions else len(interactions)

    write_operations: dict[str, int] = defaultdict(int)
    writes_ms = 0.0
    for index in write_positions:
        interaction = interactions[index]
        write_operations[interaction.operation] += 1
        writes_ms += latency_ms(interaction.service, interaction.operation)

    head_calls: dict[str, int] = defaultdict(int)
    sequential_ms = 0.0
    chains: dict[tuple[str, str, str], float] = defaultdict(float)
    for interaction in interactions[:first_write]:
        head_calls[f"{interaction.service} {interaction.operation}"] += 1
        delay = latency_ms(interaction.service, interaction.operation)
        if interaction.service in CONCURRENT_SERVICES:
            chains[(interaction.service, interaction.identity, interaction.region)] += delay
        else:
            sequential_ms += delay
    longest = {
        service: max((ms for (chain_service, _, _), ms in chains.items() if chain_service == service), default=0.0)
        for service in CONCURRENT_SERVICES
    }
    head_ms = sequential_ms + sum(longest.values())

    tail = [
        interaction
        for interaction in interactions
        if interaction.service == "dynamodb"
        and interaction.operation == "Scan"
        and inventory_table is not None
        and interaction.params.get("TableName") == inventory_table
    ]
    tail_ms = sum(latency_ms(interaction.service, interaction.operation) for interaction in tail)
    return WriteBoundLimit(
        head_s=head_ms / 1000.0,
        writes_s=writes_ms / 1000.0,
        tail_s=tail_ms / 1000.0,
        writes=len(write_positions),
        write_operations=dict(write_operations),
        head_calls=dict(head_calls),
        tail_pages=len(tail),
    )
