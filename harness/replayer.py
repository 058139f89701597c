"""Replay: every boto3 call of the code under test answered from a golden, with no network and no world.

Calls match on (service, region, identity, operation, normalized params), first in first out per key, so thread
interleaving does not matter. A call the golden does not hold is validated against the service model and fails
with the nearest recorded call shown. Recorded errors come back as the real botocore exceptions.

With a latency profile (benchmarks) the replayer stands in for AWS, and only for AWS: a call takes its modelled
latency, of which the replayer's own work for that call (matching it, copying the recorded answer) is a part, as
AWS's server time contains AWS's own work; the call sleeps only for the rest, so the emulator never lengthens a call
beyond its latency. What botocore does on the client stays the implementation's and is not discounted: building the
parameters (the `provide-client-params`/`before-parameter-build` handlers) and, with `serialize_requests`,
validating and serializing the request as the client's Config says (`parameter_validation`), which a real call does
before it is sent. Not reproduced (so not counted, for any implementation alike): signing, the HTTP round trip's
client side, and parsing the response body (the recorded response is already parsed; `prepare_answers` keeps a
pickled copy of it per interaction, so handing out a fresh copy is one C-speed `pickle.loads`).
"""

from __future__ import annotations

import builtins
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
from botocore.client import BaseClient
from botocore.validate import ParamValidator

from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.codec import from_json
from harness.interception import access_key_of, notify_response
from harness.matchers import EXACT, CallKey, Matching, call_key, canonical_params, describe_call, is_write


@dataclass
class ObservedCall:
    """A call the code under test made during replay, and which recorded interaction (if any) answered it."""

    service: str
    region: str
    identity: str
    operation: str
    params: dict[str, Any]
    answered_by: int | None
    # The canonical JSON of the parameters as matched (`Matching.params`, then `canonical_params`), for an `on_call`
    # hook only (a benchmark digests a write from it without encoding the parameters again on the caller's thread);
    # "" otherwise, so a replay does not keep every call's parameters twice.
    match_text: str = field(default="", repr=False, compare=False)

    def key(self) -> CallKey:
        """The match key of this call."""
        return call_key(self.service, self.region, self.identity, self.operation, self.params)


# Called once per replayed call, answered or failed: the call, and when it started and finished (perf_counter
# seconds, the latency sleep included). Benchmarks draw their timelines from it.
CallHook = Callable[[ObservedCall, float, float], None]


class UnrecordedCallError(Exception):
    """The code under test made a call the golden does not hold (raised into the code, and reported)."""


class ReplayCancelled(Exception):
    """The replay was given up (shadow mode's budget ran out): every call from then on raises it into the code."""


class _HttpStatus:
    """The little of an HTTP response that `after-call` handlers read."""

    def __init__(self, status_code: int) -> None:
        """Hold the status code."""
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


@dataclass(frozen=True)
class _Answer:
    """What a call gets back: the recorded error to raise, or the parsed response and its HTTP status."""

    error: Exception | None
    parsed: dict[str, Any]
    status: int


def _status_of(interaction: Interaction) -> int:
    """The HTTP status of a recorded response (200 when the recording has none)."""
    return int((interaction.response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 200))


def _serialize_request(client: BaseClient, operation_model: Any, params: dict[str, Any]) -> None:
    """Validate (when the client's Config asks) and serialize the request, as botocore does before sending it.

    Only the cost matters: the result is dropped, and so is a validation error, because the recording already
    holds what that call got (botocore's ParamValidationError included), which the replay then raises.
    """
    try:
        client._serializer.serialize_to_request(params, operation_model)
    except Exception:  # the recorded answer says what happened to this call
        return


class Replayer:
    """An interceptor answering every client call from a cassette."""

    def __init__(
        self,
        cassette: Cassette,
        latency_ms: Callable[[str, str], float] | None = None,
        matching: Matching = EXACT,
        on_call: CallHook | None = None,
        *,
        serialize_requests: bool = False,
        cancelled: threading.Event | None = None,
    ) -> None:
        """Index the cassette's interactions by match key; `latency_ms` makes each answer take that long.

        `on_call`, if given, hears of every call with its start and finish times (from the thread that made it).
        `serialize_requests` makes every call validate and serialize its request as botocore would before sending
        it (benchmarks: that client-side work is the implementation's). See also `prepare_answers`. Once
        `cancelled` is set, every call raises `ReplayCancelled`, so the code under test stops soon.
        """
        self.cassette = cassette
        self.cancelled = cancelled
        self.latency_ms = latency_ms
        self.matching = matching
        self.on_call = on_call
        self.serialize_requests = serialize_requests
        self._prepared: dict[int, bytes] = {}
        self.observed: list[ObservedCall] = []
        self.unrecorded: list[str] = []
        self._queues: dict[CallKey, deque[int]] = {}
        for index, interaction in enumerate(cassette.interactions):
            params = matching.params(interaction.params)
            key = call_key(interaction.service, interaction.region, interaction.identity, interaction.operation, params)
            self._queues.setdefault(key, deque()).append(index)
        self._accounts_by_key: dict[str, str] = {}
        self._lock = threading.Lock()
        # A recording with no approved record (`harness.divergences.answered_cassette`): a DynamoDB write it lacks
        # is answered with an empty success, for the comparison to show (shadow mode, benchmarks).
        self._answer_new_writes = bool(cassette.header.get("answer_new_writes"))

    def _empty_success(self, service: str, region: str, identity: str, operation: str, params: dict[str, Any]) -> int:
        """Add an empty success for a write the cassette lacks (under the lock); its index."""
        response: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
        if operation == "BatchWriteItem":
            response["UnprocessedItems"] = {}
        self.cassette.interactions.append(Interaction(service, region, identity, operation, params, response))
        return len(self.cassette.interactions) - 1

    def params_built(self, client: BaseClient, params: dict[str, Any]) -> None:
        """Nothing to do: replay builds the parameters itself."""

    def response_received(self, client: BaseClient, http: Any, parsed: dict[str, Any]) -> None:
        """Never called: replay makes no requests."""

    def make_api_call(self, client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Build the parameters as botocore would, then answer from the cassette or fail loudly.

        With a latency profile the call sleeps for its latency less the replayer's own work on it (see the module).
        """
        if self.cancelled is not None and self.cancelled.is_set():
            raise ReplayCancelled(f"replay given up: {operation_name} not answered")
        started = time.perf_counter()
        operation_model = client._service_model.operation_model(operation_name)
        context = _request_context(client, operation_model)
        params = client._emit_api_params(api_params=api_params, operation_model=operation_model, context=context)
        if self.serialize_requests:
            _serialize_request(client, operation_model, params)
        emulating = time.perf_counter()
        # The built parameters are kept as they are (botocore builds them afresh for every call); the match key
        # is their canonical JSON, made without an intermediate copy.
        params_text = canonical_params(self.matching.params(params))
        wire = params
        service = client.meta.service_model.service_name
        region = client.meta.region_name or ""
        identity = self.identity_of(client)
        key = (service, region, identity, operation_name, params_text)
        with self._lock:
            queue = self._queues.get(key)
            index = queue.popleft() if queue else None
            if index is None and self._answer_new_writes and service == "dynamodb" and is_write(operation_name):
                index = self._empty_success(service, region, identity, operation_name, wire)
            match_text = params_text if self.on_call is not None else ""
            call = ObservedCall(service, region, identity, operation_name, wire, index, match_text)
            self.observed.append(call)
        try:
            answer: _Answer | None = None
            if index is not None:
                answer = self._recorded_answer(operation_model, index)
            if self.latency_ms is not None:
                delay = self.latency_ms(service, operation_name) / 1000.0 - (time.perf_counter() - emulating)
                if delay > 0:
                    time.sleep(delay)
            if answer is None:
                message = self._explain_unrecorded(
                    client, operation_model, service, region, identity, operation_name, wire
                )
                with self._lock:
                    self.unrecorded.append(message)
                raise UnrecordedCallError(message)
            return self._answer(client, operation_model, operation_name, context, answer)
        finally:
            if self.on_call is not None:
                self.on_call(call, started, time.perf_counter())

    def identity_of(self, client: BaseClient) -> str:
        """`hub`, or the account whose (placeholder) credentials a replayed AssumeRole handed out."""
        key = access_key_of(client)
        with self._lock:
            return self._accounts_by_key.get(key or "", HUB_IDENTITY)

    def unused(self) -> list[int]:
        """Indexes of recorded interactions no call consumed."""
        return sorted(index for queue in self._queues.values() for index in queue)

    def prepare_answers(self) -> None:
        """Keep a pickled copy of every recorded response, parsed as botocore would hand it out (benchmarks).

        A fresh copy per call is then one `pickle.loads` (C speed, timestamps and blobs included) instead of a
        JSON round trip and a walk of the output shape: the emulator's own work per call stays small, and holds
        the interpreter lock briefly, so it competes little with the implementation's threads.
        """
        import botocore.session

        models: dict[str, Any] = {}
        for index, interaction in enumerate(self.cassette.interactions):
            if interaction.exception is not None:
                continue
            model = models.get(interaction.service)
            if model is None:
                model = models[interaction.service] = botocore.session.get_session().get_service_model(
                    interaction.service
                )
            parsed = self._parse_recorded(model.operation_model(interaction.operation), interaction)
            self._prepared[index] = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)

    def _recorded_answer(self, operation_model: Any, index: int) -> _Answer:
        """Interaction `index`'s recorded error to raise, or a fresh copy of its response with its HTTP status."""
        interaction = self.cassette.interactions[index]
        if interaction.exception is not None:
            return _Answer(rebuild_exception(interaction.exception), {}, 0)
        prepared = self._prepared.get(index)
        parsed = pickle.loads(prepared) if prepared is not None else self._parse_recorded(operation_model, interaction)
        return _Answer(None, parsed, _status_of(interaction))

    @staticmethod
    def _parse_recorded(operation_model: Any, interaction: Interaction) -> dict[str, Any]:
        """The recorded response as botocore's parser would have returned it (a fresh copy)."""
        shape = operation_model.output_shape if _status_of(interaction) < 300 else None
        parsed: dict[str, Any] = from_json(interaction.response or {}, shape)
        return parsed

    def _answer(
        self,
        client: BaseClient,
        operation_model: Any,
        operation_name: str,
        context: dict[str, Any],
        answer: _Answer,
    ) -> Any:
        """Return the recorded response, or raise the recorded error as botocore would."""
        if answer.error is not None:
            raise answer.error
        parsed, status = answer.parsed, answer.status
        if operation_name == "AssumeRole" and status < 300:
            self._learn_assumed_identity(parsed)
        http = _HttpStatus(status)
        notify_response(client, http, parsed)  # a recorder stacked above this replayer records this answer
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.emit(
            f"after-call.{service_id}.{operation_name}",
            http_response=http,
            parsed=parsed,
            model=operation_model,
            context=context,
        )
        if status >= 300:
            error_info = parsed.get("Error", {})
            error_code = context.get("error_code_override") or error_info.get("Code")
            raise client.exceptions.from_code(error_code)(parsed, operation_name)
        return parsed

    def _learn_assumed_identity(self, parsed: dict[str, Any]) -> None:
        """Remember which account the replayed (placeholder) access key acts as."""
        access_key = str(parsed.get("Credentials", {}).get("AccessKeyId", ""))
        arn = str(parsed.get("AssumedRoleUser", {}).get("Arn", ""))
        if access_key and arn.count(":") >= 5:
            with self._lock:
                self._accounts_by_key[access_key] = arn.split(":")[4]

    def _explain_unrecorded(
        self,
        client: BaseClient,
        operation_model: Any,
        service: str,
        region: str,
        identity: str,
        operation: str,
        wire: dict[str, Any],
    ) -> str:
        """Why a call has no answer: would AWS accept it at all, and which recorded call is nearest."""
        report = ParamValidator().validate(wire, operation_model.input_shape)
        validity = (
            "AWS would accept these parameters (they validate against the service model)"
            if not report.has_errors()
            else "AWS would reject these parameters:\n    " + report.generate_report().replace("\n", "\n    ")
        )
        nearest = nearest_interaction(self.cassette.interactions, service, region, identity, operation, wire)
        lines = [f"unrecorded call: {describe_call(service, region, identity, operation)}", f"  {validity}"]
        if nearest is None:
            lines.append(f"  the golden holds no {service} {operation} call at all")
        else:
            index, differences = nearest
            used = "already answered an earlier call" if index not in self.unused() else "still unused"
            lines.append(f"  nearest recorded call: interaction {index} ({used}); differs at:")
            lines.extend(f"    {difference}" for difference in differences[:8])
        lines.append("  next step: fix the implementation, or record the behaviour change as an approved divergence")
        return "\n".join(lines)


def nearest_interaction(
    interactions: list[Interaction], service: str, region: str, identity: str, operation: str, params: dict[str, Any]
) -> tuple[int, list[str]] | None:
    """The recorded call of the same service and operation closest to `params`, with what differs."""
    from deepdiff import DeepDiff

    candidates = [
        (index, interaction)
        for index, interaction in enumerate(interactions)
        if interaction.service == service and interaction.operation == operation
    ]
    if not candidates:
        return None
    # Prefer the same region and identity, then the fewest differing parameters (bounded for large goldens).
    candidates.sort(key=lambda pair: (pair[1].region != region, pair[1].identity != identity))
    best: tuple[int, list[str]] | None = None
    for index, interaction in candidates[:200]:
        differences = [
            f"{name}: recorded {recorded!r}, now {current!r}"
            for name, recorded, current in (
                ("region", interaction.region, region),
                ("identity", interaction.identity, identity),
            )
            if recorded != current
        ]
        diff = DeepDiff(interaction.params, params, verbose_level=2, threshold_to_diff_deeper=0)
        differences.extend(_diff_lines(diff))
        if best is None or len(differences) < len(best[1]):
            best = (index, differences)
    return best


def _diff_lines(diff: Any) -> list[str]:
    """DeepDiff results as `path: recorded X, now Y` lines (whole objects cut short, scalars in full)."""
    lines: list[str] = []
    for kind, changes in diff.items():
        if isinstance(changes, dict):
            for path, change in changes.items():
                if isinstance(change, dict) and "old_value" in change:
                    recorded, current = _value(change["old_value"]), _value(change["new_value"])
                    lines.append(f"{path}: recorded {recorded}, now {current}")
                else:
                    lines.append(f"{path}: {kind.replace('_', ' ')} ({_short(change)})")
        else:
            lines.extend(f"{path}: {kind.replace('_', ' ')}" for path in changes)
    return lines


def _value(value: Any) -> str:
    """A changed value for a diff line: a scalar in full (the difference may be at its end), an object cut short."""
    return _short(value) if isinstance(value, dict | list | tuple | set) else repr(value)


def _short(value: Any, limit: int = 100) -> str:
    """A value's repr cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _request_context(client: BaseClient, operation_model: Any) -> dict[str, Any]:
    """The request context botocore's own `_make_api_call` builds (handlers read it), for the botocore installed.

    botocore 1.35.0 added `OperationModel.resolved_auth_type` (the auth scheme chosen from the model's `auth` list)
    with the context's `auth_options`, and `unsigned_payload` with its own key; the SDK a python3.12 runtime carried
    before that (1.34.x) has neither and puts the model's plain `auth_type` in the context. Each is detected on the
    model's class, so an older botocore gets the context its own client would build, not an AttributeError on every
    replayed call (which would make shadow mode report a divergence that is not there).
    """
    model_class = type(operation_model)
    context: dict[str, Any] = {
        "client_region": client.meta.region_name,
        "client_config": client.meta.config,
        "has_streaming_input": operation_model.has_streaming_input,
    }
    if hasattr(model_class, "resolved_auth_type"):
        context["auth_type"] = operation_model.resolved_auth_type
        context["auth_options"] = client._service_model.metadata.get("auth")
    else:
        context["auth_type"] = operation_model.auth_type
    if hasattr(model_class, "unsigned_payload"):
        context["unsigned_payload"] = operation_model.unsigned_payload
    return context


class ReplayedException(Exception):
    """A recorded failure whose class cannot be rebuilt; carries the recorded type name and message."""


def rebuild_exception(info: dict[str, Any]) -> Exception:
    """The recorded non-AWS failure (a dropped connection, say) as an instance of its original class."""
    name = str(info.get("type", ""))
    candidate = getattr(botocore.exceptions, name, None) or getattr(builtins, name, None)
    message = str(info.get("message", ""))
    if not (isinstance(candidate, type) and issubclass(candidate, Exception)):
        return ReplayedException(f"{name}: {message}")
    error: Exception = candidate.__new__(candidate)
    Exception.__init__(error, message)
    if isinstance(error, botocore.exceptions.BotoCoreError):
        error.kwargs = dict(info.get("kwargs") or {})
    return error
