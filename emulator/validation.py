"""Request validation driven by the ``yandex.cloud`` annotations in the descriptors.

Each request type's rules (required, length, value, size, pattern, exactly_one) are
read from its descriptor once and kept as a list of checks, so one mechanism serves
every request the emulator knows, now and later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from emulator.errors import InvalidArgument
from emulator.wire import field_option, oneof_option

_RANGE = re.compile(r"(?P<op><=|>=|<|>|==|=)?\s*(?P<low>-?\d+)(?:\s*-\s*(?P<high>-?\d+))?")


def parse_range(spec: str) -> tuple[int | None, int | None]:
    """'<=50' -> (None, 50); '>=1' -> (1, None); '1-63' -> (1, 63); '5' -> (5, 5)."""
    match = _RANGE.fullmatch(spec.strip())
    if not match:
        raise ValueError(f"unsupported range annotation {spec!r}")
    op, low, high = match.group("op"), int(match.group("low")), match.group("high")
    if high is not None:
        return low, int(high)
    return {
        "<=": (None, low),
        "<": (None, low - 1),
        ">=": (low, None),
        ">": (low + 1, None),
    }.get(op, (low, low))


def _range_text(low: int | None, high: int | None) -> str:
    if low is None:
        return f"<= {high}"
    if high is None:
        return f">= {low}"
    return f"between {low} and {high}" if low != high else f"= {low}"


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _in_range(number: int, low: int | None, high: int | None) -> bool:
    return (low is None or number >= low) and (high is None or number <= high)


def _field_checks(field: FieldDescriptor) -> list[Callable[[object], str | None]]:
    """Checks for one field's value; each returns a violation text or None."""
    checks: list[Callable[[object], str | None]] = []
    repeated = field.is_repeated
    is_string = field.type == FieldDescriptor.TYPE_STRING
    if field_option(field, "required"):
        checks.append(lambda value: None if value else "is required")
    if (spec := field_option(field, "length")) is not None and is_string and not repeated:
        low, high = parse_range(spec)
        checks.append(
            lambda value, low=low, high=high: None
            if _in_range(len(value), low, high)
            else f"length must be {_range_text(low, high)} characters, got {len(value)}"
        )
    if (spec := field_option(field, "value")) is not None and not repeated:
        low, high = parse_range(spec)
        checks.append(
            lambda value, low=low, high=high: None
            if _in_range(value, low, high)
            else f"must be {_range_text(low, high)}, got {value}"
        )
    if (spec := field_option(field, "size")) is not None and repeated:
        low, high = parse_range(spec)
        checks.append(
            lambda value, low=low, high=high: None
            if _in_range(len(value), low, high)
            else f"must have {_range_text(low, high)} elements, got {len(value)}"
        )
    if (spec := field_option(field, "pattern")) is not None and is_string and not repeated:
        pattern = re.compile(spec)
        checks.append(
            lambda value, pattern=pattern: None
            if pattern.fullmatch(value)
            else f"must match the regular expression {pattern.pattern}, got {_shown(value)}"
        )
    return checks


@cache
def _message_rules(descriptor: Descriptor):
    """(field checks, nested message fields, exactly-one oneofs) for a message type."""
    field_rules = []
    nested = []
    for field in descriptor.fields:
        checks = _field_checks(field)
        if checks:
            field_rules.append((field.name, checks))
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            nested.append((field.name, field.is_repeated))
    exactly_one = [oneof.name for oneof in descriptor.oneofs if oneof_option(oneof, "exactly_one")]
    return field_rules, nested, exactly_one


def violations(message: Message, prefix: str = "") -> list[tuple[str, str]]:
    """Every annotation the message breaks, as (field path, description) pairs."""
    field_rules, nested, exactly_one = _message_rules(message.DESCRIPTOR)
    found: list[tuple[str, str]] = []
    for name, checks in field_rules:
        value = getattr(message, name)
        for check in checks:
            text = check(value)
            if text is not None:
                found.append((prefix + name, text))
    for name in exactly_one:
        if message.WhichOneof(name) is None:
            found.append((prefix + name, "exactly one of its fields must be set"))
    for name, repeated in nested:
        if repeated:
            for position, item in enumerate(getattr(message, name)):
                found.extend(violations(item, f"{prefix}{name}[{position}]."))
        elif message.HasField(name):
            found.extend(violations(getattr(message, name), f"{prefix}{name}."))
    return found


def validate(message: Message) -> None:
    """Raise InvalidArgument listing every annotation the request breaks."""
    found = violations(message)
    if found:
        raise InvalidArgument(found)
