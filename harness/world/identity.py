"""Who signed a request: the hub's own credentials, or a role assumed into another account through moto's STS."""

from __future__ import annotations

import threading


class IdentityResolver:
    """Maps access keys to accounts: keys moto issued for AssumeRole act as the role's account, others as the hub."""

    def __init__(self, hub_account: str) -> None:
        """Remember the hub account that every non-assumed key acts as."""
        self.hub_account = hub_account
        self._assumed: dict[str, str] = {}
        self._lock = threading.Lock()

    def is_hub_key(self, access_key: str) -> bool:
        """Whether `access_key` is the hub's own (not issued by AssumeRole)."""
        with self._lock:
            if access_key in self._assumed:
                return False
        return _moto_assumed_account(access_key) is None

    def account_for(self, access_key: str) -> str:
        """The account whose credentials `access_key` is."""
        with self._lock:
            known = self._assumed.get(access_key)
        if known is not None:
            return known
        account = _moto_assumed_account(access_key)
        if account is None:
            return self.hub_account
        with self._lock:
            self._assumed[access_key] = account
        return account


def _moto_assumed_account(access_key: str) -> str | None:
    """The account moto's IAM backend filed `access_key` under when STS issued it, if any."""
    from moto.iam.models import iam_backends

    for account_id, partitions in list(iam_backends.items()):
        for partition in ("aws",):
            backend = partitions[partition]
            key = backend.access_keys.get(access_key)
            if key is not None and getattr(key, "role_arn", None):
                return str(account_id)
    return None
