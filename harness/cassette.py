"""What a run recorded: its boto3 interactions, in order, and its outputs. Data only; persistence is golden.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.codec import to_json

HUB_IDENTITY = "hub"


@dataclass
class Interaction:
    """One boto3 client call: who made it where, with which wire-form parameters, and what came back.

    `response` is the parsed response (success or AWS error, metadata trimmed); `error` summarises an AWS error
    for readers (code, message, status, exception class); `exception` is a failure with no response at all
    (a dropped connection, say): its class, message and the keyword arguments botocore formatted it with.
    """

    service: str
    region: str
    identity: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    exception: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the golden file (absent parts left out)."""
        data: dict[str, Any] = {
            "service": self.service,
            "region": self.region,
            "identity": self.identity,
            "operation": self.operation,
            "params": self.params,
        }
        for name in ("response", "error", "exception"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Interaction:
        """Rebuild from golden data; KeyError/TypeError on a malformed entry (the reader words the error)."""
        return cls(
            service=data["service"],
            region=data["region"],
            identity=data["identity"],
            operation=data["operation"],
            params=dict(data["params"]),
            response=data.get("response"),
            error=data.get("error"),
            exception=data.get("exception"),
        )


@dataclass
class Outputs:
    """What the function under test produced: its return value, or the exception it raised."""

    result: Any = None
    exception: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `{"result": ...}` or `{"exception": {"type", "message"}}` form used in goldens and `run --json`."""
        if self.exception is not None:
            return {"exception": self.exception}
        return {"result": self.result}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outputs:
        """Rebuild from golden data."""
        if "exception" in data:
            return cls(exception=dict(data["exception"]))
        return cls(result=data["result"])


@dataclass
class Cassette:
    """A recording: header facts, interactions in call order, outputs."""

    header: dict[str, Any]
    interactions: list[Interaction] = field(default_factory=list)
    outputs: Outputs = field(default_factory=Outputs)


def capture_outputs(function: Callable[[], Any]) -> Outputs:
    """Call a zero-argument function, capturing its return value or the exception it raised."""
    try:
        return Outputs(result=to_json(function()))
    except Exception as error:
        return Outputs(exception={"type": type(error).__name__, "message": str(error)})
