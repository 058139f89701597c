"""Credentials never reach the logs: botocore's DEBUG records are redacted as they are created.

At DEBUG, botocore logs STS response bodies, canonical requests and signed headers, which carry the secret key
and session token of every role the sync assumes. A log record factory rewrites SDK records before any handler
(the Lambda runtime's, or a test's) sees them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

SDK_LOGGER_PREFIXES = ("botocore", "boto3", "urllib3", "s3transfer")
REDACTED = "<redacted>"
_PATTERNS = (
    re.compile(r"(<(SecretAccessKey|SessionToken|AccessKeyId)>)[^<]*(</\2>)"),
    re.compile(
        r"""(["']?(?:SecretAccessKey|SessionToken|AccessKeyId|aws_secret_access_key|aws_session_token)["']?\s*[:=]\s*["']?)[^"',}\s]+"""
    ),
    re.compile(r"""((?i:x-amz-security-token)["']?\s*[:=]\s*(?:b?["'])?)[^"',}\s]+"""),
    re.compile(r"(Signature=)[0-9a-f]+"),
    re.compile(r"(Credential=)[^/\s,]+"),
)
_installed = False


def redact(text: str) -> str:
    """`text` with credential values (XML, JSON/dict, header and signature forms) replaced by a marker."""
    for pattern in _PATTERNS:
        text = pattern.sub(_redacted_match, text)
    return text


def _redacted_match(match: re.Match[str]) -> str:
    """The matched prefix (and closing XML tag, if any) around the marker."""
    closing = match.group(3) if match.re.groups >= 3 else ""
    return match.group(1) + REDACTED + (closing or "")


def install() -> None:
    """Redact every SDK log record from now on (idempotent, process-wide)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        """Build the record, then rewrite its message if an SDK logger made it."""
        record = previous(*args, **kwargs)
        if record.name.split(".", 1)[0] in SDK_LOGGER_PREFIXES:
            record.msg = redact(record.getMessage())
            record.args = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
