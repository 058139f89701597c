"""API-Gateway-style responses with JSON bodies that may contain DynamoDB Decimals."""

import json
from decimal import Decimal
from typing import Any

DEFAULT_HEADERS: dict[str, str] = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class DecimalEncoder(json.JSONEncoder):
    """JSON encoder that writes DynamoDB Decimals as numbers: whole values as int, others as float."""

    def default(self, o: Any) -> Any:
        """Encode a Decimal as int when it has no fractional part, else as float; defer anything else."""
        if isinstance(o, Decimal):
            return int(o) if o % 1 == 0 else float(o)
        return super().default(o)


def response(status_code: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Build `{statusCode, headers, body}` with the standard CORS/security headers and a JSON-encoded body."""
    all_headers = dict(DEFAULT_HEADERS)
    if headers:
        all_headers.update(headers)
    return {
        "statusCode": status_code,
        "headers": all_headers,
        "body": json.dumps(body, cls=DecimalEncoder),
    }
