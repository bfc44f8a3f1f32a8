"""The List filter language: one condition on a field with ``=``, ``!=``, ``IN`` or ``NOT IN``.

Each List names its field and the pattern its values must match (a FilterSpec); a
filter is parsed once per request into a NameFilter that the store evaluates against
its indexes. Keywords are case-insensitive; values are single- or double-quoted. Only the
ASCII space and tab separate tokens: other characters Unicode counts as white space
(NBSP, U+2003, U+001C, line breaks) are refused, as a user reading the filter would
not see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.api.errors import InvalidArgument

MAX_VALUE_LENGTH = 256
BLANKS = " \t"
# The documented value expression, with its last group repeated one or more times
# so that nested repository names (registry/team/web) are accepted; see docs/container-registry.md.
VALUE_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))+")


@dataclass(frozen=True)
class FilterSpec:
    """What one List may filter on: a field and the pattern its values must match."""

    field: str
    value_pattern: re.Pattern


# Image and repository names are "<registry_id>/<path>"; registry names follow the
# pattern ListRegistriesRequest.filter documents.
REPOSITORY_NAME_FILTER = FilterSpec("name", VALUE_PATTERN)
REGISTRY_NAME_FILTER = FilterSpec("name", re.compile(r"[a-z][-a-z0-9]{1,61}[a-z0-9]"))

_TOKEN = re.compile(
    r"""[ \t]*(?:
        (?P<string>"[^"]*"|'[^']*')
      | (?P<op>!=|=)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<bad>[^ \t])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class NameFilter:
    """``name`` is (negated=False) or is not (negated=True) one of ``names``."""

    negated: bool
    names: frozenset[str]

    def canonical(self) -> str:
        """A normal form, so equivalent spellings share page tokens."""
        return ("!" if self.negated else "=") + ",".join(sorted(self.names))


def _fail(text: str) -> InvalidArgument:
    return InvalidArgument.field("filter", text)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    text = text.rstrip(BLANKS)
    while position < len(text):
        match = _TOKEN.match(text, position)
        kind = match.lastgroup
        if kind == "bad":
            raise _fail(f"unexpected character {match.group(kind)!r} at position {match.start(kind) + 1}")
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_filter(
    text: str, spec: FilterSpec = REPOSITORY_NAME_FILTER, request_field: str = "filter"
) -> NameFilter | None:
    """Parse a filter expression; empty means no filter. Errors name the problem, and the request's
    field that held it (``filter``; Cloud Registry's ``name_filter``, ``path_filter``)."""
    try:
        return _parse_filter(text, spec)
    except InvalidArgument as error:
        if request_field == "filter":
            raise
        raise InvalidArgument([(request_field, text) for _, text in error.violations]) from None


def _parse_filter(text: str, spec: FilterSpec) -> NameFilter | None:
    if not text.strip(BLANKS):
        return None
    tokens = _tokens(text)
    name = spec.field
    expected = f'expected {name} = "<value>", {name} != "<value>", {name} IN (...) or {name} NOT IN (...)'
    kind, field = tokens[0]
    if kind != "word":
        raise _fail(f"{expected}, got {field!r}")
    if field != name:
        raise _fail(f"filtering is supported on the field {name!r} only, got {field!r}")
    rest = tokens[1:]
    words = [value.upper() if kind == "word" else value for kind, value in rest[:2]]
    if words[:1] in (["="], ["!="]):
        negated, rest = words[0] == "!=", rest[1:]
        if len(rest) != 1 or rest[0][0] != "string":
            raise _fail(f"operator {words[0]} takes one quoted value")
        values = [rest[0][1]]
    elif words[:1] == ["IN"] or words[:2] == ["NOT", "IN"]:
        negated = words[0] == "NOT"
        rest = rest[2:] if negated else rest[1:]
        values = _parse_list(rest, "NOT IN" if negated else "IN")
    else:
        raise _fail(f"{expected}; unknown operator after {name!r}")
    names = set()
    for quoted in values:
        value = quoted[1:-1]
        if len(value) > MAX_VALUE_LENGTH:
            raise _fail(f"value must be at most {MAX_VALUE_LENGTH} characters, got {len(value)}")
        if not spec.value_pattern.fullmatch(value):
            raise _fail(f"value {value!r} must match the regular expression {spec.value_pattern.pattern}")
        names.add(value)
    return NameFilter(negated=negated, names=frozenset(names))


def _parse_list(tokens: list[tuple[str, str]], operator: str) -> list[str]:
    """``( "a", 'b' )`` -> the quoted values; the list may not be empty."""
    shape = f"operator {operator} takes a parenthesised, comma-separated, non-empty list of quoted values"
    if len(tokens) < 3 or tokens[0] != ("punct", "(") or tokens[-1] != ("punct", ")"):
        raise _fail(shape)
    inner = tokens[1:-1]
    values = inner[0::2]
    separators = inner[1::2]
    if not values or len(inner) % 2 == 0:
        raise _fail(shape)
    if any(kind != "string" for kind, _ in values) or any(sep != ("punct", ",") for sep in separators):
        raise _fail(shape)
    return [value for _, value in values]
