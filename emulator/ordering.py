"""The List ``order_by`` expression: a field and an optional asc/desc.

Each List names the fields it may be ordered by; the first is the default order.
"""

from __future__ import annotations

import re

from emulator.errors import InvalidArgument

_ORDER_BY = re.compile(r"[ \t]*(?P<field>[A-Za-z_]+)(?:[ \t]+(?P<direction>[A-Za-z]+))?[ \t]*")


def parse_order_by(text: str, fields: tuple[str, ...]) -> tuple[str, bool]:
    """Return (field, descending); empty means ascending by the first of ``fields``."""
    if not text.strip(" \t"):
        return fields[0], False
    match = _ORDER_BY.fullmatch(text)
    field = match and match.group("field")
    direction = ((match and match.group("direction")) or "asc").lower()
    if field not in fields or direction not in ("asc", "desc"):
        raise InvalidArgument.field(
            "order_by",
            f"must be one of {', '.join(fields)}, optionally followed by asc or desc; got {text!r}",
        )
    return field, direction == "desc"
