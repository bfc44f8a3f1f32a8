"""Request validation driven by the ``yandex.cloud`` annotations in the descriptors.

Each request type's rules (required, length, value, size, pattern, map_key, exactly_one)
are read from its descriptor once and kept as a list of checks, so one mechanism serves
every request the emulator knows, now and later. On a map field, ``size`` counts its
entries, ``length``/``pattern``/``value`` apply to each value and ``map_key`` to each key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from emulator.api.errors import InvalidArgument
from emulator.api.wire import field_option, oneof_option

# Annotations production is seen not to enforce, each with its evidence: enforcing them would refuse
# what works against production.
NOT_ENFORCED = {
    # Terraform's provider (resource_yandex_container_repository_lifecycle_policy.go, Update) sends no
    # status when it has not changed; the service requires it only when update_mask names it.
    "yandex.cloud.containerregistry.v1.UpdateLifecyclePolicyRequest.status": "required",
}
# Durations that must be positive, each with its evidence (the API names a period).
POSITIVE_DURATIONS = {
    # "Period of time since last scan to trigger automatic rescan": a period of no time is none.
    "yandex.cloud.containerregistry.v1.ScheduledRule.rescan_period",
}
MAX_DURATION_SECONDS = 315_576_000_000  # google.protobuf.Duration's range: about 10,000 years
_DURATION_UNITS_NS = {"h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6}
_DURATION = re.compile(r"(?P<op><=|>=|<|>)?\s*(?P<number>\d+)(?P<unit>h|ms|m|s)")
_RANGE = re.compile(r"(?P<op><=|>=|<|>|==|=)?\s*(?P<low>-?\d+)(?:\s*-\s*(?P<high>-?\d+))?")

ScalarCheck = Callable[[object], str | None]  # one value -> a violation text or None
FieldCheck = Callable[[object], Iterable[str]]  # a field's value -> its violation texts
_INTEGERS = {
    FieldDescriptor.CPPTYPE_INT32,
    FieldDescriptor.CPPTYPE_INT64,
    FieldDescriptor.CPPTYPE_UINT32,
    FieldDescriptor.CPPTYPE_UINT64,
}


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


def _scalar_checks(
    field: FieldDescriptor, length: str | None, value: str | None, pattern: str | None
) -> list[ScalarCheck]:
    """Checks of one string (length, pattern) or number (value) of ``field``'s type: a field's
    value, or a map entry's key or value."""
    checks: list[ScalarCheck] = []
    is_string = field.type == FieldDescriptor.TYPE_STRING
    length, pattern = (length, pattern) if is_string else (None, None)
    value = value if field.cpp_type in _INTEGERS else None
    if length is not None:
        low, high = parse_range(length)
        checks.append(
            lambda text, low=low, high=high: (
                None
                if _in_range(len(text), low, high)
                else f"length must be {_range_text(low, high)} characters, got {len(text)}"
            )
        )
    if value is not None:
        low, high = parse_range(value)
        checks.append(
            lambda number, low=low, high=high: (
                None if _in_range(number, low, high) else f"must be {_range_text(low, high)}, got {number}"
            )
        )
    if pattern is not None:
        compiled = re.compile(pattern)
        checks.append(
            lambda text, compiled=compiled: (
                None
                if compiled.fullmatch(text)
                else f"must match the regular expression {compiled.pattern}, got {_shown(text)}"
            )
        )
    return checks


def _whole(check: ScalarCheck) -> FieldCheck:
    return lambda value: () if (text := check(value)) is None else (text,)


def _each(check: ScalarCheck) -> FieldCheck:
    """A check of every element of a repeated field; the texts name the element."""

    def check_all(values) -> Iterable[str]:
        for position, value in enumerate(values):
            if (text := check(value)) is not None:
                yield f"element {position}: {text}"

    return check_all


def _entries(key_checks: list[ScalarCheck], value_checks: list[ScalarCheck]) -> FieldCheck:
    """Every map entry's key and value, in key order; the texts name the key."""

    def check(entries) -> Iterable[str]:
        for key in sorted(entries):
            for key_check in key_checks:
                if (text := key_check(key)) is not None:
                    yield f"key {_shown(key)}: {text}"
            for value_check in value_checks:
                if (text := value_check(entries[key])) is not None:
                    yield f"value of key {_shown(key)}: {text}"

    return check


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _required_text(field: FieldDescriptor) -> str | None:
    """What an unset required field reports (an enum: its zero value), or None if not required.
    A singular message field's presence needs the parent (HasField), see _message_rules."""
    if NOT_ENFORCED.get(field.full_name) == "required":
        return None
    if not field_option(field, "required") or (field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated):
        return None
    if field.type == FieldDescriptor.TYPE_ENUM:
        return f"is required, got {field.enum_type.values_by_number[0].name}"
    return "is required"


def _field_checks(field: FieldDescriptor) -> list[FieldCheck]:
    """Checks of one field's set value (an unset required one reports that alone)."""
    checks: list[FieldCheck] = []
    repeated = field.is_repeated
    if (spec := field_option(field, "size")) is not None and repeated:
        low, high = parse_range(spec)
        checks.append(
            _whole(
                lambda value, low=low, high=high: (
                    None
                    if _in_range(len(value), low, high)
                    else f"must have {_range_text(low, high)} elements, got {len(value)}"
                )
            )
        )
    length, value, pattern = (field_option(field, name) for name in ("length", "value", "pattern"))
    if _is_map(field):
        entry = field.message_type.fields_by_name
        key = field_option(field, "map_key")
        key_checks = (
            _scalar_checks(entry["key"], key.length or None, key.value or None, key.pattern or None) if key else []
        )
        value_checks = _scalar_checks(entry["value"], length, value, pattern)
        if key_checks or value_checks:
            checks.append(_entries(key_checks, value_checks))
    elif not repeated:
        checks.extend(_whole(check) for check in _scalar_checks(field, length, value, pattern))
    elif field.type != FieldDescriptor.TYPE_MESSAGE:  # a repeated scalar: each element
        checks.extend(_each(check) for check in _scalar_checks(field, length, value, pattern))
    if field.type == FieldDescriptor.TYPE_ENUM:
        # proto3 keeps numbers its enum does not define: a service could not name them (a
        # repeated enum's elements too: Cloud Registry's List requests match by several kinds).
        known = frozenset(field.enum_type.values_by_number)
        check = lambda value, known=known, enum=field.enum_type.full_name: (
            None if value in known else f"{value} is not a value of {enum}"
        )
        checks.append(_each(check) if repeated else _whole(check))
    return checks


def _valid_duration(duration: Message) -> str | None:
    """A Duration as its definition allows: within about 10,000 years, nanos under a second, of its sign."""
    seconds, nanos = duration.seconds, duration.nanos
    if abs(seconds) > MAX_DURATION_SECONDS or abs(nanos) >= 10**9 or (seconds * nanos < 0):
        return f"is not a Duration (seconds within +-{MAX_DURATION_SECONDS}, nanos of the same sign), got {seconds}s {nanos}ns"
    return None


def _duration_check(spec: str) -> Callable[[Message], str | None]:
    """A ``value`` annotation on a google.protobuf.Duration (``>=24h``): a check of a set duration."""
    match = _DURATION.fullmatch(spec.strip())
    if not match:
        raise ValueError(f"unsupported duration annotation {spec!r}")
    bound = int(match.group("number")) * _DURATION_UNITS_NS[match.group("unit")]
    op = match.group("op") or "=="
    holds = {"<=": bound.__ge__, ">=": bound.__le__, "<": bound.__gt__, ">": bound.__lt__, "==": bound.__eq__}[op]

    def check(duration: Message) -> str | None:
        total = duration.seconds * 10**9 + duration.nanos
        return None if holds(total) else f"must be {op} {spec.strip().lstrip('<>=').strip()}, got {total / 1e9:g}s"

    return check


@cache
def _message_rules(descriptor: Descriptor):
    """(field rules, required message fields, nested message fields, exactly-one oneofs, duration
    checks of set Duration fields)."""
    field_rules = []
    present = []
    nested = []
    durations = []
    for field in descriptor.fields:
        required, checks = _required_text(field), _field_checks(field)
        if required or checks:
            field_rules.append((field.name, required, checks))
        if field.type != FieldDescriptor.TYPE_MESSAGE or _is_map(field):
            continue
        if not field.is_repeated and field_option(field, "required"):
            present.append(field.name)
        if field.message_type.full_name == "google.protobuf.Duration" and not field.is_repeated:
            durations.append((field.name, _valid_duration))  # one a Duration can be, or refused
            if field.full_name in POSITIVE_DURATIONS:
                durations.append((field.name, _duration_check(">0s")))
            if (spec := field_option(field, "value")) is not None:
                durations.append((field.name, _duration_check(spec)))
            continue
        nested.append((field.name, field.is_repeated))
    exactly_one = [oneof.name for oneof in descriptor.oneofs if oneof_option(oneof, "exactly_one")]
    return field_rules, present, nested, exactly_one, durations


def violations(message: Message, prefix: str = "") -> list[tuple[str, str]]:
    """Every annotation the message breaks, as (field path, description) pairs."""
    field_rules, present, nested, exactly_one, durations = _message_rules(message.DESCRIPTOR)
    found: list[tuple[str, str]] = []
    for name, required, checks in field_rules:
        value = getattr(message, name)
        if required and not value:  # empty string, zero enum, no elements
            found.append((prefix + name, required))
            continue
        for check in checks:
            found.extend((prefix + name, text) for text in check(value))
    for name in present:
        if not message.HasField(name):
            found.append((prefix + name, "is required"))
    for name in exactly_one:
        if message.WhichOneof(name) is None:
            found.append((prefix + name, "exactly one of its fields must be set"))
    for name, check in durations:
        if message.HasField(name) and (text := check(getattr(message, name))) is not None:
            found.append((prefix + name, text))
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
