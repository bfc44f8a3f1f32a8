"""The List ``order_by`` expression: comma-separated fields, each with an optional asc/desc.

Each List names the fields it may be ordered by; the first (the id) is the default order and
breaks ties. Ties are broken by the id in the direction of the last field named, so a single
``name desc`` walks the kind's own ``name`` order backwards (ties by id descending), and an
expression with every direction turned round lists the same records in reverse.

An expression becomes the name of an order (see emulator.state.listing.parse_order_name) and the
direction to walk it in, the id's: ``"name, created_at desc"`` walks ``"-name,created_at"``
descending. Walking in the id's direction means the id, unique to each record, is never the
part of a key that sorts against the walk (which would cost an object per record).
"""

from __future__ import annotations

import re
from typing import NoReturn

from emulator.api.errors import InvalidArgument

_WORDS = re.compile(r"[ \t]+")  # only the ASCII space and tab separate words
_DIRECTIONS = {"asc": False, "desc": True}


def _refuse(problem: str, text: str) -> NoReturn:
    raise InvalidArgument.field("order_by", f"{problem}, got {text!r}")


def parse_fields(text: str, fields: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """((field, descending), ...) as written, ending with the id: after the id nothing can
    change the order, so it stops there; without it, the id follows in the last field's direction.
    Empty means ascending by the first of ``fields``."""
    if not text.strip(" \t"):
        return ((fields[0], False),)
    parsed: list[tuple[str, bool]] = []
    for item in text.split(","):
        words = _WORDS.split(item.strip(" \t"))
        if words == [""]:
            _refuse("an empty item: give fields separated by commas, each optionally followed by asc or desc", text)
        if len(words) > 2:
            _refuse(f"{item.strip(' ')!r} is not a field optionally followed by asc or desc", text)
        field = words[0]
        if field not in fields:
            _refuse(f"{field!r} is not a field to order by (one of {', '.join(fields)})", text)
        direction = words[1] if len(words) == 2 else "asc"
        if not direction.isascii() or direction.lower() not in _DIRECTIONS:
            _refuse(f"{direction!r} after {field} is not a direction (asc or desc)", text)
        if any(field == seen for seen, _ in parsed):
            _refuse(f"{field} is named twice", text)
        parsed.append((field, _DIRECTIONS[direction.lower()]))
    cut = next((position for position, (field, _) in enumerate(parsed) if field == fields[0]), None)
    if cut is not None:
        return tuple(parsed[: cut + 1])
    return (*parsed, (fields[0], parsed[-1][1]))


def parse_order_by(text: str, fields: tuple[str, ...]) -> tuple[str, bool]:
    """(the order's name, descending): the name lists the fields before the id, each one that
    sorts against the walking direction (the id's) with a ``-``: ``"id"``, ``"name"``,
    ``"name,created_at"``, ``"-name,created_at"``."""
    parsed = parse_fields(text, fields)
    descending = parsed[-1][1]
    names = [("-" if field_descending != descending else "") + field for field, field_descending in parsed[:-1]]
    return ",".join(names) or fields[0], descending
