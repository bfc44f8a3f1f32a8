"""The List ``order_by`` expression: a field (id, name, created_at) and an optional asc/desc."""

from __future__ import annotations

import re

from emulator.errors import InvalidArgument
from emulator.store import IMAGE_ORDERS as ORDER_FIELDS

_ORDER_BY = re.compile(r"[ \t]*(?P<field>[A-Za-z_]+)(?:[ \t]+(?P<direction>[A-Za-z]+))?[ \t]*")


def parse_order_by(text: str) -> tuple[str, bool]:
    """Return (field, descending); empty means ascending by id."""
    if not text.strip(" \t"):
        return "id", False
    match = _ORDER_BY.fullmatch(text)
    field = match and match.group("field")
    direction = ((match and match.group("direction")) or "asc").lower()
    if field not in ORDER_FIELDS or direction not in ("asc", "desc"):
        raise InvalidArgument.field(
            "order_by",
            f"must be one of {', '.join(ORDER_FIELDS)}, optionally followed by asc or desc; got {text!r}",
        )
    return field, direction == "desc"
