"""How long operations take: ``immediate``, ``polls:N`` or ``delay:MS``, for every method or one.

Production finishes deletes later (clients poll ``OperationService.Get``); an emulator that
finishes everything at once never runs a client's polling, timeout and "still there while
deleting" paths. A mode says when an operation is done:

- ``immediate`` (the default): done when returned;
- ``polls:N``: done on the N-th ``OperationService.Get`` of it (1 <= N <= 1000);
- ``delay:MS``: done MS milliseconds after it was made (0 <= MS <= 3,600,000).

Modes are given per method (``ImageService/Delete``, or its full name) or for every method (``*``).
Plain data, no gRPC: the store applies them; the catalogue says which methods make operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emulator.api.catalogue import EVERY_METHOD, Catalogue

MAX_POLLS = 1000
MAX_DELAY_MS = 3_600_000
_MODE = re.compile(r"(?P<kind>immediate|polls|delay)(?::(?P<value>[0-9]{1,9}))?")


@dataclass(frozen=True, slots=True)
class Mode:
    kind: str  # "immediate", "polls" or "delay"
    value: int = 0  # polls: N; delay: milliseconds

    def __str__(self) -> str:
        return self.kind if self.kind == "immediate" else f"{self.kind}:{self.value}"


IMMEDIATE = Mode("immediate")


def parse_mode(text: object) -> Mode:
    """``immediate``, ``polls:N`` or ``delay:MS``; ValueError naming what is wrong."""
    match = _MODE.fullmatch(text) if isinstance(text, str) else None
    if match is None or (match["kind"] == "immediate") != (match["value"] is None):
        raise ValueError(f"operation mode: must be immediate, polls:N or delay:MS, got {text!r}")
    kind, value = match["kind"], int(match["value"] or 0)
    if kind == "polls" and not 1 <= value <= MAX_POLLS:
        raise ValueError(f"operation mode: polls:N needs 1 <= N <= {MAX_POLLS}, got {text!r}")
    if kind == "delay" and value > MAX_DELAY_MS:
        raise ValueError(f"operation mode: delay:MS needs MS <= {MAX_DELAY_MS} (an hour), got {text!r}")
    return Mode(kind, value)


def method_name(text: object, catalogue: Catalogue) -> str:
    """A method as the modes name it: ``*`` or ``Service/Method`` (a full name is shortened)."""
    if text == EVERY_METHOD:
        return text
    method = catalogue.method(text)
    if method is not None and method.mutating:
        return method.short
    mutating = ", ".join(method.short for method in catalogue.methods(mutating=True))
    raise ValueError(
        f"operation mode: {text!r} is not a method that returns an operation (one of {mutating}, or * for all)"
    )


def parse_modes(modes: Mapping[str, str] | Iterable[str] | str, catalogue: Catalogue) -> dict[str, Mode]:
    """Modes from ``{"method": "mode"}``, or from specs ``MODE`` / ``METHOD=MODE`` (the CLI's
    repeatable ``--operations``; a string is one spec). A method given twice is an error."""
    if isinstance(modes, str):
        modes = [modes]
    if isinstance(modes, Mapping):
        pairs = list(modes.items())
    else:
        pairs = []
        for spec in modes:
            if not isinstance(spec, str):
                raise ValueError(f"operation mode: must be MODE or METHOD=MODE, got {spec!r}")
            method, _, mode = spec.rpartition("=")
            pairs.append((method or EVERY_METHOD, mode))
    parsed: dict[str, Mode] = {}
    for method, mode in pairs:
        name = method_name(method, catalogue)
        if name in parsed:
            raise ValueError(f"operation mode: {name} is given twice")
        parsed[name] = parse_mode(mode)
    return parsed


def modes_json(modes: Mapping[str, Mode]) -> dict[str, str]:
    return {method: str(mode) for method, mode in modes.items()}
