"""Relations the contract suite checks, written once: paging against one big page, sortedness by
the fields an order names, and the order_by grammar as the suite reads it.

Only what a client sees on the wire counts: ``last_modified`` is an order but no field of
``Image``, so a comparison stops at it (the items compare as tied from there on).
"""

from __future__ import annotations

import functools
import itertools
import math

import pytest

from conftest import list_pages
from emulator.api.wire import resource_id

TIMEOUT = 30  # seconds per call: a target that stops answering fails the test instead of hanging it
MAX_WALK_PAGES = 40  # page sizes grow with the listing so a walk over a production folder stays bounded
SAMPLE = 25  # items checked one by one (Get agrees with List)

IMAGE_KEYS = {
    "id": lambda image: image.id,
    "name": lambda image: image.name,
    "digest": lambda image: image.digest,
    "created_at": lambda image: image.created_at.ToNanoseconds(),
    "last_modified": None,  # not on the wire
}
REPOSITORY_KEYS = {"id": lambda repository: repository.id, "name": lambda repository: repository.name}

# Ids of nothing, in the shapes the API accepts: for NOT_FOUND and for fields a request must ignore.
UNKNOWN_ID = "crp00000000000000000"
UNKNOWN_FOLDER = "b1g00000000000000000"


def ids(items) -> list[str]:
    return [resource_id(item) for item in items]


def spread(items: list, count: int = SAMPLE) -> list:
    """At most ``count`` items, evenly spread over ``items`` (first and last included)."""
    if len(items) <= count:
        return list(items)
    return [items[round(position * (len(items) - 1) / (count - 1))] for position in range(count)]


def page_sizes(total: int, wanted=(1, 2, 5)) -> list[int]:
    """The page sizes to walk a listing of ``total`` items with: ``wanted``, raised so that no walk
    takes more than MAX_WALK_PAGES pages."""
    floor = max(1, math.ceil(total / MAX_WALK_PAGES))
    return sorted({max(size, floor) for size in wanted})


def pages(call, request_class, page_size: int, **fields) -> list[list]:
    """Every page of a List (conftest.list_pages: fails on a token over 100 characters)."""
    return [list(page) for page in list_pages(call, request_class, page_size, timeout=TIMEOUT, **fields)]


def everything(call, request_class, **fields) -> list:
    """The whole listing, in pages of 1000 (one page for up to 1000 items)."""
    return [item for page in pages(call, request_class, 1000, **fields) for item in page]


def order_fields(order_by: str) -> list[tuple[str, bool]]:
    """(field, descending) as ``order_by`` names them: comma-separated fields, each optionally
    followed by asc or desc (the suite's own reading, see tests/test_order_by.py)."""
    parsed = []
    for item in order_by.split(","):
        words = item.split()
        if words:
            parsed.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return parsed


def compare_visible(keys: dict, fields: list[tuple[str, bool]]):
    """A comparison of two items by the fields an order names, as far as the wire shows them: it
    stops at a field the items do not carry, and never breaks ties (no tie-break is documented)."""

    def compare(a, b) -> int:
        for name, descending in fields:
            key = keys[name]
            if key is None:
                return 0
            x, y = key(a), key(b)
            if x != y:
                return (1 if x > y else -1) * (-1 if descending else 1)
        return 0

    return compare


def first_disorder(items: list, keys: dict, order_by: str) -> tuple | None:
    """The first neighbours out of ``order_by``'s order (None: sorted). Strings compare by code
    point, as bytes do for these ASCII names and digests."""
    compare = compare_visible(keys, order_fields(order_by))
    for position, (a, b) in enumerate(itertools.pairwise(items)):
        if compare(a, b) > 0:
            return position, a, b
    return None


def sorted_with_id_ties(items: list, keys: dict, order_by: str) -> list:
    """The emulator's total order: the fields as written (nothing after the id counts; the first
    field when none is written), then the id in the direction of the last field written."""
    fields = order_fields(order_by) or [("id", False)]
    names = [name for name, _ in fields]
    fields = fields[: names.index("id") + 1] if "id" in names else [*fields, ("id", fields[-1][1])]
    return sorted(items, key=functools.cmp_to_key(compare_visible(keys, fields)))


def chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]


def check_walk(walk: list[list], page_size: int, reference: list, keys: dict, order_by: str, query: str) -> list:
    """The documented relations between a walk in pages of ``page_size`` and the reference listing
    of the same query: no page over the size ("the maximum number of results per page"), no item
    twice, nothing missing or added, and the walk in the order's order. That pages are full until
    the last is the emulator's choice (a page size is only a maximum), checked where it is marked.
    Returns the walk's items."""
    items = [item for page in walk for item in page]
    assert all(len(page) <= page_size for page in walk), f"{query}: a page over {page_size}"
    walked = ids(items)
    assert len(walked) == len(set(walked)), f"{query}: an item twice in pages of {page_size}"
    assert set(walked) == set(ids(reference)), f"{query}: pages of {page_size} differ from one big page"
    disorder = first_disorder(items, keys, order_by)
    assert disorder is None, f"{query}: pages of {page_size} out of order at {disorder}"
    return items


def require(condition: bool, what: str) -> None:
    """Skip a test the target's data cannot exercise, saying what it needs (the suite's own
    targets hold all of it: tests/test_contract_targets.py counts no skips)."""
    if not condition:
        pytest.skip(f"the target's data has no {what}")
