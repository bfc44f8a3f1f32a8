"""Fault injection: rules that make matching calls fail, slow down, or finish their operation
with an error, so that a client's retry, back-off, timeout and error paths can be tested.

Plain Python, no gRPC: the service layer asks ``Faults.decide`` once per call (after
authentication, before validation) and acts on the answer.

A rule (a JSON object; see ``parse_rule``):
- ``method``: a full name (``yandex.cloud.containerregistry.v1.ImageService/List``), a short one
  (``ImageService/List``), a service (``ImageService``) or ``*``;
- ``match``: request fields (their names in the .proto) that must equal the given values;
- what happens: ``code`` (a gRPC status name) with an optional ``message``; and/or ``delay_ms``
  (latency added before the answer, or before the fault); or ``operation_error`` (``{"code",
  "message"}``: the call succeeds and its operation finishes with that error, nothing changed);
- when: ``count`` (the next N matching calls, then the rule expires), ``after`` (skip the first N
  matching calls), ``probability`` (0..1, drawn from ``seed``); default: every matching call.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.rpc import code_pb2

from emulator.api.catalogue import EVERY_METHOD, Catalogue, Method, Service
from emulator.api.values import lone_surrogate
from emulator.api.wire import message_class

CODES = frozenset(code_pb2.Code.keys()) - {"OK"}
MAX_RULES = 100
MAX_DELAY_MS = 60_000
MAX_MESSAGE = 1000  # characters: a status message must fit grpc's 8 KiB metadata limit, whatever the script
_KEYS = (
    "method", "match", "code", "message", "delay_ms", "operation_error", "migration_failure", "count", "after",
    "probability", "seed",
)  # fmt: skip
# The methods a migration_failure applies to: the migrations' starts.
MIGRATION_STARTS = ("cloudregistry.MigrationService/StartFolder", "cloudregistry.MigrationService/StartCloud")
_FAILURE_KEYS = ("registry_id", "repository", "tag", "code", "message")


@dataclass
class FaultRule:
    id: str
    method: str
    match: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    message: str = ""
    delay_ms: int = 0
    operation_error: tuple[str, str] | None = None
    migration_failure: dict[str, str] | None = None  # a part of a migration that fails (registry_id, ...)
    count: int | None = None  # matching calls left to answer; None: no limit
    after: int = 0  # matching calls still to let through first
    probability: float | None = None
    seed: int | None = None
    _random: random.Random | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The rule as given (its count and after as they stand now), with its id."""
        entry: dict[str, Any] = {"id": self.id, "method": self.method}
        if self.match:
            entry["match"] = dict(self.match)
        if self.code is not None:
            entry["code"] = self.code
            entry["message"] = self.message
        if self.delay_ms:
            entry["delay_ms"] = self.delay_ms
        if self.operation_error is not None:
            entry["operation_error"] = {"code": self.operation_error[0], "message": self.operation_error[1]}
        if self.migration_failure is not None:
            entry["migration_failure"] = dict(self.migration_failure)
        for name in ("count", "probability", "seed"):
            if getattr(self, name) is not None:
                entry[name] = getattr(self, name)
        if self.after:
            entry["after"] = self.after
        return entry


@dataclass(frozen=True)
class Decision:
    """What a rule does to one call."""

    rule_id: str
    code: str | None
    message: str
    delay_ms: int
    operation_error: tuple[str, str] | None


def _number(rule: Mapping, name: str, kind: type, low: float, high: float | None) -> Any:
    value = rule.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or (isinstance(value, float) and not math.isfinite(value))  # NaN compares false with every bound
        or value < low
        or (high is not None and value > high)
    ):
        span = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be {'an integer' if kind is int else 'a number'} {span}, got {value!r}")
    return value


def _status(value: Any, name: str) -> str:
    if value not in CODES:
        raise ValueError(f"{name}: must be a gRPC status name other than OK (e.g. UNAVAILABLE), got {value!r}")
    return value


def _text(value: Any, name: str) -> str:
    """A message the wire can carry: a string, at most MAX_MESSAGE characters, valid UTF-8."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be a string, got {value!r}")
    if len(value) > MAX_MESSAGE:
        raise ValueError(
            f"{name}: at most {MAX_MESSAGE} characters (a status must fit grpc's metadata limit), got {len(value)}"
        )
    if lone_surrogate(value) is not None:
        raise ValueError(f"{name}: holds a lone surrogate, which UTF-8 and so the wire cannot carry")
    return value


_SCALARS = {
    FieldDescriptor.TYPE_STRING: (str, "a string"),
    FieldDescriptor.TYPE_BOOL: (bool, "true or false"),
    FieldDescriptor.TYPE_DOUBLE: ((int, float), "a number"),
    FieldDescriptor.TYPE_FLOAT: ((int, float), "a number"),
}


def _fits(field: FieldDescriptor, value: Any) -> bool:
    """Whether a request's field could equal ``value`` as the fault rule reads it (a repeated field:
    a list; an enum: its number; a message or map field never: it cannot be compared)."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return False
    if field.is_repeated:
        return isinstance(value, list) and all(_fits_one(field, item) for item in value)
    return _fits_one(field, value)


def _fits_one(field: FieldDescriptor, value: Any) -> bool:
    if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP, FieldDescriptor.TYPE_BYTES):
        return False
    kind = _SCALARS.get(field.type, (int, "an integer"))[0]
    if kind is not bool and isinstance(value, bool):
        return False
    if kind is int and isinstance(value, int) and not -(2**63) <= value < 2**64:
        return False  # no request field holds it: the rule would never fire
    return isinstance(value, kind) and (not isinstance(value, str) or lone_surrogate(value) is None)


def _match(match: Any, named: Service | Method | str, catalogue: Catalogue) -> dict[str, Any]:
    """``match``: request fields that the methods the rule names have, each with a value of its type."""
    if not isinstance(match, Mapping) or not all(isinstance(key, str) for key in match):
        raise ValueError("match: must be an object of request field -> value")
    if isinstance(named, Method):
        methods, where = [named], named.short
    else:
        methods = list(named.methods.values()) if isinstance(named, Service) else list(catalogue)
        where = f"any method of {named.short}" if isinstance(named, Service) else "any served method"
    for key, value in match.items():
        if lone_surrogate(key) is not None:
            raise ValueError("match: a field name holds a lone surrogate")
        fields = [message_class(m.request_type).DESCRIPTOR.fields_by_name.get(key) for m in methods]
        fields = [found for found in fields if found is not None]
        if not fields:
            raise ValueError(f"match.{key}: the request of {where} has no such field")
        if not any(_fits(found, value) for found in fields):
            field = fields[0]
            what = "a message: not matchable" if field.type == FieldDescriptor.TYPE_MESSAGE else (
                "a list" if field.is_repeated
                else _SCALARS.get(field.type, (int, "an integer"))[1]
            )  # fmt: skip
            raise ValueError(f"match.{key}: must be {what}, got {value!r}")
    return dict(match)


def method_pattern(value: Any, catalogue: Catalogue) -> Service | Method | str:
    """``*``, or the served service or method ``value`` names (short or full); ValueError otherwise."""
    if value == EVERY_METHOD:
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"method: must be a method, a service or *, got {value!r}")
    found = catalogue.named(value, "method")
    if isinstance(found, str):  # a bare method name: a rule names the service's
        owners = sorted(service.short for service in catalogue.services.values() if found in service.methods)
        raise ValueError(f"method: name the service too, e.g. {owners[0]}/{found} (or the service alone)")
    return found


def parse_rule(rule: Any, rule_id: str, catalogue: Catalogue) -> FaultRule:
    """A rule from its JSON form; ValueError naming the field."""
    if not isinstance(rule, Mapping):
        raise ValueError("rule: must be a JSON object")
    unknown = sorted(set(rule) - set(_KEYS), key=str)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field (allowed: {', '.join(_KEYS)})")
    if "method" not in rule:
        raise ValueError("method: is required (a method, a service or *)")
    named = method_pattern(rule["method"], catalogue)
    match = _match(rule.get("match") or {}, named, catalogue)
    code = _status(rule["code"], "code") if rule.get("code") is not None else None
    message = _text(rule.get("message", ""), "message")
    operation_error = rule.get("operation_error")
    if operation_error is not None:
        if not isinstance(operation_error, Mapping) or set(operation_error) - {"code", "message"}:
            raise ValueError('operation_error: must be {"code": "<status>", "message": "..."}')
        text = _text(operation_error.get("message", "injected fault"), "operation_error.message")
        operation_error = (_status(operation_error.get("code"), "operation_error.code"), text)
        if isinstance(named, Method) and not named.deferred:
            deferred = ", ".join(method.short for method in catalogue.methods(deferred=True))
            raise ValueError(
                f"operation_error: applies to the methods whose operation makes their change ({deferred}), "
                f"not {named.name}"
            )
        if code is not None:
            raise ValueError("operation_error: give code (the call fails) or operation_error (its operation does)")
    delay_ms = _number(rule, "delay_ms", int, 0, MAX_DELAY_MS) or 0
    failure = rule.get("migration_failure")
    if failure is not None:
        failure = _migration_failure(failure, named, catalogue)
        if code is not None or operation_error is not None or delay_ms:
            raise ValueError("migration_failure: a rule with it fails a part of a migration, and does nothing else")
    if code is None and operation_error is None and not delay_ms and failure is None:
        raise ValueError("code: a rule needs code, delay_ms, operation_error or migration_failure")
    probability = _number(rule, "probability", (int, float), 0, 1)
    seed = _number(rule, "seed", int, 0, None)
    if seed is not None and probability is None:
        raise ValueError("seed: goes with probability")
    return FaultRule(
        id=rule_id,
        method=named if isinstance(named, str) else named.full if isinstance(named, Method) else named.name,
        match=dict(match),
        code=code,
        message=message or (f"injected {code}" if code else ""),
        delay_ms=delay_ms,
        operation_error=operation_error,
        migration_failure=failure,
        count=_number(rule, "count", int, 1, None),
        after=_number(rule, "after", int, 0, None) or 0,
        probability=probability,
        seed=seed,
        _random=random.Random(seed) if probability is not None else None,
    )


def _migration_failure(value: Any, named: Service | Method | str, catalogue: Catalogue) -> dict[str, str]:
    """``{"registry_id", "repository"?, "tag"?, "code", "message"?}``: the part of a migration that fails."""
    starts = [catalogue.method(name) for name in MIGRATION_STARTS]
    if not (named in starts or (isinstance(named, Service) and named is starts[0].service)):
        raise ValueError(f"migration_failure: applies to {' and '.join(MIGRATION_STARTS)} only (or their service)")
    if not isinstance(value, Mapping):
        raise ValueError(f"migration_failure: must be an object of {', '.join(_FAILURE_KEYS)}")
    unknown = [key for key in value if key not in _FAILURE_KEYS]
    if unknown:
        raise ValueError(f"migration_failure.{unknown[0]}: unknown key (known: {', '.join(_FAILURE_KEYS)})")
    for key in ("registry_id", "repository", "tag"):
        if key in value and not (isinstance(value[key], str) and value[key]):
            raise ValueError(f"migration_failure.{key}: must be a non-empty string, got {value[key]!r}")
    if "registry_id" not in value:
        raise ValueError("migration_failure.registry_id: is required (the registry whose migration fails)")
    if "tag" in value and "repository" not in value:
        raise ValueError("migration_failure.tag: goes with repository (the tag's repository path)")
    checked = {key: value[key] for key in ("registry_id", "repository", "tag") if key in value}
    checked["code"] = _status(value.get("code"), "migration_failure.code")
    checked["message"] = _text(value.get("message", f"injected {checked['code']}"), "migration_failure.message")
    if not checked["message"]:
        raise ValueError("migration_failure.message: must be a non-empty string (the dashboard's error_message)")
    return checked


class Faults:
    """The rules in force, in the order added. Thread-safe."""

    def __init__(self, catalogue: Catalogue):
        self._catalogue = catalogue
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, rule: Any) -> FaultRule:
        with self._lock:
            if len(self._rules) >= MAX_RULES:
                raise ValueError(f"rule: at most {MAX_RULES} rules at a time; remove some first")
            parsed = parse_rule(rule, f"fault-{next(self._ids)}", self._catalogue)
            self._rules.append(parsed)
            return parsed

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            return removed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def decide(self, method: Method, request: Mapping[str, Any] | None) -> Decision | None:
        """The first rule that takes this call, counting it; None: no fault. ``request``: the
        request's fields (proto names), or None if it could not be decoded (match rules skip it).
        migration_failure rules are not decided here: a migration takes them (take_migration_failures)."""
        if not self._rules:
            return None
        with self._lock:
            for rule in list(self._rules):
                if rule.migration_failure is not None or not self._takes(rule, method, request):
                    continue
                return Decision(rule.id, rule.code, rule.message, rule.delay_ms, rule.operation_error)
            return None

    def take_migration_failures(
        self, method: Method, request: Mapping[str, Any] | None, registry_ids: Iterable[str]
    ) -> tuple[dict[str, str], ...]:
        """The migration_failure parts of the rules that take a migration start moving ``registry_ids``,
        each counted then (so a start that moves none of a rule's registry, or never gets that far,
        leaves the rule as it was)."""
        moving = set(registry_ids)
        with self._lock:
            return tuple(
                dict(rule.migration_failure)
                for rule in list(self._rules)
                if rule.migration_failure is not None
                and rule.migration_failure["registry_id"] in moving
                and self._takes(rule, method, request)
            )

    def _takes(self, rule: FaultRule, method: Method, request: Mapping[str, Any] | None) -> bool:
        """Whether the rule takes this call, counting it if so (its after, probability and count)."""
        if not _applies(rule, method, request):
            return False
        if rule.after:
            rule.after -= 1
            return False
        if rule._random is not None and rule._random.random() >= rule.probability:
            return False
        if rule.count is not None:
            rule.count -= 1
            if rule.count == 0:
                self._rules.remove(rule)
        return True


def _applies(rule: FaultRule, method: Method, request: Mapping[str, Any] | None) -> bool:
    if rule.method != EVERY_METHOD and rule.method not in (method.service.name, method.full):
        return False
    if rule.operation_error is not None and not method.deferred:
        return False  # a rule for a whole service or * takes only the methods it can apply to
    if rule.migration_failure is not None and method.short not in MIGRATION_STARTS:
        return False
    if not rule.match:
        return True
    return request is not None and all(request.get(key) == value for key, value in rule.match.items())


class FaultHandle:
    """A fault rule added to an emulator: remove it, or use it as a context manager."""

    def __init__(self, emulator: Any, fault_id: str, rule: dict):
        """``emulator``: anything with ``remove_fault(id)`` (Emulator, RemoteEmulator)."""
        self._emulator, self.id, self.rule = emulator, fault_id, rule

    def remove(self) -> bool:
        return self._emulator.remove_fault(self.id)

    def __enter__(self) -> FaultHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultHandle({self.rule!r})"
