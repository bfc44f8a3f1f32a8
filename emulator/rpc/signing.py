"""Self-contained signed tokens: a payload and its keyed BLAKE2b MAC, in URL-safe base64.

Page tokens and IAM tokens are both made this way, so the emulator keeps nothing per token
and a token it did not make, or made under another key, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets


class Signer:
    def __init__(self, mac_size: int):
        self.mac_size = mac_size
        self.rotate()

    def rotate(self) -> None:
        """A new key: every token sealed so far stops opening."""
        self._key = secrets.token_bytes(32)

    def _mac(self, payload: bytes, context: bytes) -> bytes:
        # Keyed BLAKE2b is a MAC in itself, and cheaper per call than the hmac module.
        return hashlib.blake2b(context + payload, key=self._key, digest_size=self.mac_size).digest()

    def seal(self, payload: bytes, context: bytes = b"") -> str:
        """The payload and its MAC; the MAC also covers ``context``, which the token does not carry
        (a page token is bound so to its query)."""
        return base64.urlsafe_b64encode(payload + self._mac(payload, context)).decode().rstrip("=")

    def open(self, text: str, context: bytes = b"") -> bytes | None:
        """The payload of a token this signer sealed under its current key and ``context``, in exactly
        the spelling it issued (base64 ignores spare bits and stray padding); None for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text or len(raw) < self.mac_size:
            return None
        payload, mac = raw[: -self.mac_size], raw[-self.mac_size :]
        return payload if hmac.compare_digest(mac, self._mac(payload, context)) else None
