"""API keys: ``<account>.<tag>``, the tag an HMAC of the account under a secret.

Keys are derived, not stored: the secret lives in the data directory (mode
0600), so a key keeps working across restarts and checking one costs one
HMAC, no lookup. Whoever holds the secret can mint keys; nothing else can.
A ring remembers the last keys it found good (at most 65,536), so a client's
later requests cost a dict lookup instead of the HMAC (a few µs per
request); a key it does not know is checked in full.

Example:
    >>> ring = KeyRing(b"s" * 32)
    >>> key = ring.key_for("alice")
    >>> key.startswith("alice.")
    True
    >>> ring.account_of(key)
    'alice'
    >>> ring.account_of("alice.forged") is None
    True
    >>> ring.account_of("admin.\xe9") is None
    True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

__all__ = ["KeyRing"]

_TAG_HEX = 40
_REMEMBERED = 1 << 16


class KeyRing:
    """Mints and checks API keys under one secret."""

    __slots__ = ("_good", "_secret")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("secret: need at least 16 bytes")
        self._secret = secret
        self._good: dict[str, str] = {}

    @classmethod
    def in_dir(cls, data_dir: Path) -> KeyRing:
        """The key ring of ``data_dir/secret``, creating the secret (0600) on first use."""
        path = data_dir / "secret"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
                out.flush()
                os.fsync(out.fileno())
        return cls(path.read_bytes())

    def _tag(self, account: str) -> str:
        mac = hmac.new(self._secret, account.encode(), hashlib.sha256)
        return mac.hexdigest()[:_TAG_HEX]

    def key_for(self, account: str) -> str:
        """The API key of ``account``."""
        return f"{account}.{self._tag(account)}"

    def account_of(self, key: str) -> str | None:
        """The account ``key`` belongs to, or None if it is not a key this ring minted."""
        known = self._good.get(key)
        if known is not None:
            return known
        # compare_digest refuses non-ASCII str with a TypeError, and a header may carry any
        # latin-1 byte: such a key was never minted, so it is simply not a key.
        account, dot, tag = key.rpartition(".")
        if (not dot or not account or not tag.isascii()
                or not hmac.compare_digest(tag, self._tag(account))):
            return None
        if len(self._good) >= _REMEMBERED:
            self._good.clear()
        self._good[key] = account
        return account
