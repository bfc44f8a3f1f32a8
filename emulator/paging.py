"""Opaque, bounded, tamper-proof page tokens for keyset paging.

A token names the last image of the page and is bound to the query (scope, filter,
order) that produced it, with a MAC (keyed BLAKE2b) under a key made per emulator. So paging
never repeats or skips an image that existed throughout, and a token the emulator
did not issue, or one reused for another query, is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from emulator.errors import InvalidArgument

_VERSION = b"\x01"
_FINGERPRINT_SIZE = 8
_MAC_SIZE = 10


class PageTokens:
    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)

    def rotate(self) -> None:
        """A new key: every token issued so far becomes invalid (used on reset)."""
        self._key = secrets.token_bytes(32)

    @staticmethod
    def fingerprint(query: str) -> bytes:
        return hashlib.blake2b(query.encode(), digest_size=_FINGERPRINT_SIZE).digest()

    def _mac(self, payload: bytes) -> bytes:
        # Keyed BLAKE2b is a MAC in itself, and cheaper per call than the hmac module.
        return hashlib.blake2b(payload, key=self._key, digest_size=_MAC_SIZE).digest()

    def issue(self, query: str, last_id: str) -> str:
        """A token for the page after ``last_id`` of ``query`` (at most 92 characters)."""
        payload = _VERSION + self.fingerprint(query) + last_id.encode()
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def read(self, query: str, token: str) -> str:
        """The last image id a token carries; INVALID_ARGUMENT if forged or for another query."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
            raw = b""  # only the one spelling the emulator issued is accepted
        payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
        valid = payload[:1] == _VERSION and len(payload) > 1 + _FINGERPRINT_SIZE
        if not valid or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidArgument.field("page_token", "is not a token this emulator issued")
        if payload[1 : 1 + _FINGERPRINT_SIZE] != self.fingerprint(query):
            raise InvalidArgument.field(
                "page_token", "was issued for a different scope, filter or order than this request"
            )
        return payload[1 + _FINGERPRINT_SIZE :].decode()
