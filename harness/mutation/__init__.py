"""Mutation testing of the refactored sync, the gate as its test suite (`make mutation`, `python -m harness.mutation`).

- `suite`: the fast gate, goldens ordered to kill early and judged one at a time, with a per-golden deadline.
- `gate_tests` and `plugin`: that gate as pytest tests for mutmut, and the plugin ordering them and recording kills.
- `scratch`: the scratch copy mutmut works in (the real `inventory_sync` package is never touched).
- `results` and `report`: mutmut's verdicts read back with how each mutant was killed; `mutation/` written from them.
- `driver`: the command line tying them together.
"""
