"""Opaque, bounded, tamper-proof page tokens for keyset paging.

A token carries the sort key the page stopped at (a store cursor: integers, then an
image id) and is bound to the query (scope, filter, order) that produced it, with a
MAC (keyed BLAKE2b) under a key made per emulator. Resuming from the key itself, not
from an image looked up again, means paging never repeats or skips an image that
existed throughout, whatever happened since to the image the page stopped at (deleted,
re-added with other fields), and the store keeps nothing for deleted images. A token
the emulator did not issue, or one reused for another query, is rejected.
"""

from __future__ import annotations

import hashlib

from emulator.errors import InvalidArgument
from emulator.signing import Signer

_VERSION = b"\x02"
_FINGERPRINT_SIZE = 6
_MAC_SIZE = 8
# Integers take 9 bytes, signed: a created_at in nanoseconds spans years 1 to 9999 (|n| < 2^68),
# more than int64 holds. version + fingerprint + integer count + 1 integer + a 50-character id
# + MAC = 75 bytes: 100 characters of base64, the API's limit on page_token.
_INT_SIZE = 9
MAX_TOKEN_LENGTH = 100


class PageTokens:
    def __init__(self):
        self._signer = Signer(_MAC_SIZE)

    def rotate(self) -> None:
        """A new key: every token issued so far becomes invalid (used on reset)."""
        self._signer.rotate()

    @staticmethod
    def fingerprint(query: str) -> bytes:
        return hashlib.blake2b(query.encode(), digest_size=_FINGERPRINT_SIZE).digest()

    def issue(self, query: str, cursor: tuple) -> str:
        """A token resuming ``query`` after ``cursor`` (integers, then a string)."""
        *numbers, last = cursor
        payload = b"".join(
            (
                _VERSION,
                self.fingerprint(query),
                bytes([len(numbers)]),
                *(number.to_bytes(_INT_SIZE, "big", signed=True) for number in numbers),
                last.encode(),
            )
        )
        token = self._signer.seal(payload)
        if len(token) > MAX_TOKEN_LENGTH:  # ids are at most 50 characters: cannot happen
            raise ValueError(f"page token of {len(token)} characters for cursor {cursor!r}")
        return token

    def read(self, query: str, token: str) -> tuple:
        """The cursor a token carries; INVALID_ARGUMENT if forged or for another query."""
        payload = self._signer.open(token) or b""
        head = 1 + _FINGERPRINT_SIZE + 1
        if payload[:1] != _VERSION or len(payload) < head:
            raise InvalidArgument.field("page_token", "is not a token this emulator issued")
        if payload[1 : 1 + _FINGERPRINT_SIZE] != self.fingerprint(query):
            raise InvalidArgument.field(
                "page_token", "was issued for a different scope, filter or order than this request"
            )
        count = payload[head - 1]
        numbers = [
            int.from_bytes(payload[head + _INT_SIZE * n : head + _INT_SIZE * (n + 1)], "big", signed=True)
            for n in range(count)
        ]
        return (*numbers, payload[head + _INT_SIZE * count :].decode())
