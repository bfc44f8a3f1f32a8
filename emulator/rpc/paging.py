"""Opaque, bounded, tamper-proof page tokens for keyset paging.

A token carries the sort key the page stopped at (a store cursor: integers, then a record
id) and is bound to the query (List method, scope, filter, order) that produced it: its MAC
(keyed BLAKE2b, under a key made per emulator) covers the query's fingerprint as well as
what the token carries, so a token reused for another query is refused like a forged one.
Resuming from the key itself, not from a record looked up again, means paging never repeats
or skips a record that existed throughout, whatever happened since to the record the page
stopped at (deleted, re-added with other fields), and the store keeps nothing for deleted
records.

Layout: version, a head byte (how many integers; the top bit set when the string is carried
as UTF-8 rather than packed), the integers (zigzag varints), the string, the MAC. A string of
lowercase letters and digits (every id) is packed as a bijective base-36 number: 50 characters
in 33 bytes. The largest cursor, four integers (two serials below 2^34 and two timestamps of
years 1 to 9999) and a 50-character id, takes at most 1 + 1 + 2 * 5 + 2 * 10 + 33 + 8 = 73 bytes:
98 characters of base64, within the API's 100.
"""

from __future__ import annotations

import hashlib

from emulator.api.errors import InvalidArgument
from emulator.rpc.signing import Signer

_VERSION = 3
_MAC_SIZE = 8
_RAW_TEXT = 0x80
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_DIGIT_VALUES = {character: value for value, character in enumerate(_DIGITS, start=1)}
MAX_TOKEN_LENGTH = 100


def _varint(number: int) -> bytes:
    number = number << 1 if number >= 0 else (-number << 1) - 1  # zigzag: small magnitudes, few bytes
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _read_varint(payload: bytes, position: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = payload[position]
        position += 1
        number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return (number >> 1 if not number & 1 else -((number + 1) >> 1)), position


def _pack_text(text: str) -> bytes | None:
    """``text`` as a bijective base-36 number (no length needed: "" is 0), or None if it holds
    anything but lowercase letters and digits."""
    number = 0
    for character in text:
        value = _DIGIT_VALUES.get(character)
        if value is None:
            return None
        number = number * 36 + value
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _unpack_text(packed: bytes) -> str:
    number = int.from_bytes(packed, "big")
    characters = []
    while number:
        number, digit = divmod(number - 1, 36)
        characters.append(_DIGITS[digit])
    return "".join(reversed(characters))


class PageTokens:
    def __init__(self):
        self._signer = Signer(_MAC_SIZE)

    def rotate(self) -> None:
        """A new key: every token issued so far becomes invalid (used on reset)."""
        self._signer.rotate()

    @staticmethod
    def fingerprint(query: str) -> bytes:
        return hashlib.blake2b(query.encode(), digest_size=16).digest()

    def issue(self, query: str, cursor: tuple) -> str:
        """A token resuming ``query`` after ``cursor`` (integers, then a string)."""
        *numbers, last = cursor
        packed = _pack_text(last)
        head = len(numbers) | (_RAW_TEXT if packed is None else 0)
        text = last.encode() if packed is None else packed
        payload = bytes([_VERSION, head]) + b"".join(map(_varint, numbers)) + text
        token = self._signer.seal(payload, context=self.fingerprint(query))
        if len(token) > MAX_TOKEN_LENGTH:  # see the module's docstring: cannot happen for store cursors
            raise ValueError(f"page token of {len(token)} characters for cursor {cursor!r}")
        return token

    def read(self, query: str, token: str) -> tuple:
        """The cursor a token carries; INVALID_ARGUMENT if forged or issued for another query."""
        payload = self._signer.open(token, context=self.fingerprint(query))
        if payload is None or len(payload) < 2 or payload[0] != _VERSION:
            raise InvalidArgument.field(
                "page_token", "is not a token this emulator issued for this List method, scope, filter and order"
            )
        position, numbers = 2, []
        for _ in range(payload[1] & ~_RAW_TEXT):
            number, position = _read_varint(payload, position)
            numbers.append(number)
        rest = payload[position:]
        return (*numbers, rest.decode() if payload[1] & _RAW_TEXT else _unpack_text(rest))
