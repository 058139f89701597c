"""`make bench`: the legacy and the refactored sync over a large fleet, replayed with AWS-like latency per call.

The fleet is recorded once from the legacy on the local AWS (latency off) and cached under `bench/.cache/`; both
implementations then replay that recording on real threads, each call sleeping as long as AWS would, so concurrent
calls overlap as they would in the Lambda. What is measured is the implementations, not the emulator:

- **A call costs its latency, the emulator's work included.** The replayer's own work for a call (matching it to
  the recording, handing out a copy of the recorded answer) stands for AWS's server time, which the latency
  already contains: the call sleeps for its latency less that work, so it takes max(latency, the emulator's work),
  never longer. The answers are prepared before the run (each recorded response pickled once, already in the form
  botocore returns), so a copy is one C-speed `pickle.loads`, which holds the interpreter lock only briefly.
- **Botocore's client-side work is the implementation's, and counted.** Every call builds its parameters through
  the client's event handlers and is validated (when the client's Config says so) and serialized by the client's
  own serializer, as before sending, on the calling thread, outside the latency. A 25-item BatchWriteItem costs
  about 12 ms of CPU with validation and 4 ms without (2 cores, unloaded), so both syncs pay it on every write.
- **Not reproduced, so not counted, for either implementation:** request signing, the HTTP client's work, and
  botocore's parsing of the response body (the recording holds responses already parsed). In the Lambda these
  add CPU per call on the calling thread; they weigh most on the large DRS, EC2 and Scan pages.
- **Memory:** a call's parameters are dropped once it is answered (a write is kept only as its digest, made from
  the replayer's match text), as botocore drops a sent request; the prepared answers are resident with the
  recording, before the run starts.

The timed window is the implementation's call alone; the recording's loading, the answers' preparation and the
interpreter's start are outside it. CPU-bound parts stretch when the machine is busy: `machine.load_average_*`
in `results.json` says how busy it was.

Modules: `fleet` (bench scenarios and the recording cache), `limit` (the write-bound limit from the latency model),
`measure` (one replay in its own process: time, calls, writes, peak memory), `overhead` (the recorder's cost on
the local AWS), `timeline` (the PNG), `run` (the whole bench, `python -m harness.bench`).
"""
