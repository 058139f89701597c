"""What every part of the sync shares: the legacy's client config and AssumeRole duration, and the read-ahead window."""

import logging
import os

from botocore.config import Config

logger = logging.getLogger(__name__)

# Every DRS and EC2 client: short timeouts and a single retry, as the legacy's.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
ASSUME_ROLE_DURATION_SECONDS = 900
ACCOUNT_WINDOW_ENV = "INVENTORY_SYNC_ACCOUNT_WINDOW"
# Accounts read at once: the one being written and the next two. An account's reads (STS, two DRS pages per region,
# EC2 per origin group) take about twice as long as its writes, so two accounts read ahead keep the writer busy.
DEFAULT_ACCOUNT_WINDOW = 3


def account_window() -> int:
    """How many accounts may be read at once (`INVENTORY_SYNC_ACCOUNT_WINDOW`, a whole number >= 1; default 3).

    1 reads each account only once the one before it is written: every call then comes in the legacy's order.
    """
    raw = os.environ.get(ACCOUNT_WINDOW_ENV, "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    if raw:
        logger.warning(
            "Ignoring %s=%r (expected a whole number >= 1), using %d", ACCOUNT_WINDOW_ENV, raw, DEFAULT_ACCOUNT_WINDOW
        )
    return DEFAULT_ACCOUNT_WINDOW
