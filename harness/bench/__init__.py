"""`make bench`: the legacy and the refactored sync over a large fleet, replayed with AWS-like latency per call.

The fleet is recorded once from the legacy on the local AWS (latency off) and cached under `bench/.cache/`; both
implementations then replay that recording on real threads, each call sleeping as long as AWS would, so concurrent
calls overlap as they would in the Lambda. What is measured is the implementations, not the emulator.

Modules: `fleet` (bench scenarios and the recording cache), `limit` (the write-bound limit from the latency model),
`measure` (one replay in its own process: time, calls, writes, peak memory), `overhead` (the recorder's cost on
the local AWS), `timeline` (the PNG), `run` (the whole bench, `python -m harness.bench`).
"""
