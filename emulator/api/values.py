"""One set of checks for the values the wire must carry: ids, digests, int64 sizes, timestamps.

Each check returns the value or raises ValueProblem, a ValueError that keeps the field and
the rule apart (its message reads ``field: rule, got value``). The store, the seed format,
the Python API and the control plane use these, so all of them refuse the same values with
the same words.
"""

from __future__ import annotations

from emulator.api.ids import ACCEPTED_ID_PATTERN, DIGEST_PATTERN

INT64_MAX = 2**63 - 1
# What google.protobuf.Timestamp can carry: 0001-01-01 to 9999-12-31 UTC, in ns since the epoch.
TIMESTAMP_MIN_NS = -62_135_596_800 * 1_000_000_000
TIMESTAMP_MAX_NS = 253_402_300_799 * 1_000_000_000 + 999_999_999


class ValueProblem(ValueError):
    """A value a field may not hold: ``field`` and ``rule`` kept apart for who reports it."""

    def __init__(self, field: str, rule: str, value: object):
        self.field, self.rule, self.value = field, rule, value
        super().__init__(f"{field}: {rule}, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_id(value: object, field: str) -> str:
    if not (isinstance(value, str) and ACCEPTED_ID_PATTERN.fullmatch(value)):
        raise ValueProblem(field, "must be 1-50 lowercase letters or digits", value)
    return value


def check_digest(value: object, field: str) -> str:
    if not (isinstance(value, str) and DIGEST_PATTERN.fullmatch(value)):
        raise ValueProblem(field, "must be sha256:<64 lowercase hex digits>", value)
    return value


def check_size(value: object, field: str) -> int:
    if not (_is_int(value) and 0 <= value <= INT64_MAX):
        raise ValueProblem(field, "must be an integer from 0 to 2^63-1", value)
    return value


def check_timestamp(value: object, field: str) -> int:
    if not (_is_int(value) and TIMESTAMP_MIN_NS <= value <= TIMESTAMP_MAX_NS):
        raise ValueProblem(field, "must be a time between years 1 and 9999", value)
    return value


def lone_surrogate(text: str) -> int | None:
    """Where ``text`` holds a lone surrogate (JSON's "\\ud800" makes one; so does a command-line
    argument that is not UTF-8, PEP 383), which UTF-8, and so protobuf and the wire, cannot carry;
    None for text that can go on the wire."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None
