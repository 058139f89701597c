"""Equivalence harness for the DRS inventory sync: record, replay, compare and gate, plus a local AWS."""
