"""Scoped sorted indexes and keyset paging, for any kind of record.

Plain Python, no gRPC. A kind of record (images, repositories, registries) declares
its sort orders (a key per order, unique because ties are broken by id); a
``ScopedIndex`` keeps one sorted list of keys per (scope, order), where a scope is
anything a List can name (a folder, a registry, a repository, a name within a folder).
``page`` reads one page of keys after a given key in O(page size + log n), including
a filter on groups (a list of scopes to merge, or scopes to leave out).

Orders come in two kinds. The kind's own orders (one field, ties broken by id) are kept
for every scope at all times. Any other order of the kind's fields (several fields, each
ascending or descending, ending with the id) is built for a scope on first use from the
scope's records, kept up to date from then on, and dropped again, least recently used
first, when the lazily built lists hold more than ``max_lazy_keys`` keys together.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any

from sortedcontainers import SortedList


@dataclass(frozen=True, slots=True)
class Scope:
    """What a List covers, or a group a filter names: e.g. Scope("folder", "b1g...")."""

    kind: str
    value: Hashable


# A cursor is a sort key in a compact, bounded form: integers, then a record id. How a
# key becomes a cursor and back is each kind's business (see Order).
Cursor = tuple[Any, ...]


class UnknownCursor(LookupError):
    """A cursor that names nothing the store knows (e.g. a repository serial it never gave)."""


@dataclass(frozen=True, slots=True)
class Order:
    """One sort order of a kind of record.

    ``key``: the record's sort key, unique (ties broken by id); ``id_of``: the record id
    inside a key; ``sort_attribute``: the attribute the key sorts by first (None: the id),
    so bulk loading can sort with plain attribute keys; ``cursor_of`` / ``key_of_cursor``:
    a key in the bounded form a page token carries, and back (UnknownCursor if it names
    nothing known); ``shares``: another order whose key this one's often equals (then one
    key object serves both, which saves its memory).
    """

    key: Callable[[Any], Any]
    id_of: Callable[[Any], str]
    cursor_of: Callable[[Any], Cursor]
    key_of_cursor: Callable[[Cursor], Any]
    sort_attribute: str | None = None
    shares: str | None = None


def by_id(record) -> str:
    return record.id


def _id_key_of_cursor(cursor: Cursor) -> Any:
    if len(cursor) != 1:
        raise UnknownCursor(cursor)
    return cursor[0]


def _pair_of_cursor(cursor: Cursor) -> Any:
    if len(cursor) != 2:
        raise UnknownCursor(cursor)
    return cursor


ID_ORDER = Order(key=by_id, id_of=lambda key: key, cursor_of=lambda key: (key,), key_of_cursor=_id_key_of_cursor)


def by_number_then_id(attribute: str, shares: str | None = None) -> Order:
    """The order of an integer attribute, ties broken by id; keys (and cursors) are (value, id)."""
    return Order(
        key=lambda record: (getattr(record, attribute), record.id),
        id_of=itemgetter(1),
        cursor_of=tuple,
        key_of_cursor=_pair_of_cursor,
        sort_attribute=attribute,
        shares=shares,
    )


class NameSerials:
    """Numbers for names, given the first time a page stops at a name and kept until reset:
    a name can be longer than a page token, its number cannot."""

    def __init__(self):
        self._names: list[str] = []
        self._serials: dict[str, int] = {}

    def serial_of(self, name: str) -> int:
        serial = self._serials.get(name)
        if serial is None:
            serial = self._serials[name] = len(self._names)
            self._names.append(name)
        return serial

    def name_of(self, serial: int) -> str:
        if not 0 <= serial < len(self._names):
            raise UnknownCursor(serial)
        return self._names[serial]


def by_name_then_id(attribute: str, serials: NameSerials) -> Order:
    """The order of a string attribute, ties broken by id; cursors carry the string's serial
    (a name, a digest: either is too long to go into a page token beside an id)."""

    def key_of_cursor(cursor: Cursor) -> Any:
        if len(cursor) != 2:
            raise UnknownCursor(cursor)
        return (serials.name_of(cursor[0]), cursor[1])

    return Order(
        key=lambda record: (getattr(record, attribute), record.id),
        id_of=itemgetter(1),
        cursor_of=lambda key: (serials.serial_of(key[0]), key[1]),
        key_of_cursor=key_of_cursor,
        sort_attribute=attribute,
    )


class ScopedIndex:
    """One SortedList of keys per (scope, order) for one kind of record."""

    def __init__(self, orders: dict[str, Order]):
        self.orders = orders
        self._lists: dict[Scope, dict[str, SortedList]] = {}

    def _orders_of(self, scope: Scope) -> dict[str, SortedList]:
        lists = self._lists.get(scope)
        if lists is None:
            lists = self._lists[scope] = {order: SortedList() for order in self.orders}
        return lists

    def add(self, record, scopes: Iterable[Scope]) -> None:
        keys = [(name, order.key(record)) for name, order in self.orders.items()]
        for scope in scopes:
            lists = self._orders_of(scope)
            for name, key in keys:
                lists[name].add(key)

    def remove(self, record, scopes: Iterable[Scope]) -> None:
        keys = [(name, order.key(record)) for name, order in self.orders.items()]
        for scope in scopes:
            lists = self._lists[scope]
            for name, key in keys:
                lists[name].remove(key)
            if not lists[name]:
                del self._lists[scope]  # an emptied scope keeps nothing

    def add_many(self, records: list, scopes_of: Callable[[Any], tuple[Scope, ...]], group_of=None) -> None:
        """Index many records: sort them once per order, then deal the keys out to their
        scopes in that order. Sorting uses plain attribute keys in stable passes, far
        cheaper than comparing key tuples; each key is made once and shared by the scopes.
        ``group_of(record)``: records of one group share their scopes (computed once)."""
        by_id_order = sorted(records, key=by_id)
        for name, order in self.orders.items():
            ordered = by_id_order
            if order.sort_attribute is not None:  # stable: ties stay in id order
                ordered = sorted(by_id_order, key=lambda record, a=order.sort_attribute: getattr(record, a))
            keys_by_scope: dict[Scope, list] = {}
            lists_of_group: dict[Any, tuple[list, ...]] = {}
            key_of = order.key
            for record in ordered:
                group = group_of(record) if group_of else record.id
                lists = lists_of_group.get(group)
                if lists is None:
                    lists = lists_of_group[group] = tuple(keys_by_scope.setdefault(s, []) for s in scopes_of(record))
                key = key_of(record)
                for keys in lists:
                    keys.append(key)
            for scope, keys in keys_by_scope.items():  # each list is in order already
                self._orders_of(scope)[name].update(keys)

    def contents(self) -> dict:
        """What the index holds, for a caller that frees it elsewhere (Store.reset)."""
        return self._lists

    def keys(self, scope: Scope, order: str) -> SortedList:
        lists = self._lists.get(scope)
        return lists[order] if lists is not None else SortedList()

    def holds(self, scope: Scope) -> bool:
        """Whether any record lies in ``scope``."""
        return scope in self._lists

    def count(self, scope: Scope) -> int:
        return len(self.keys(scope, next(iter(self.orders))))

    def page(
        self,
        scope: Scope,
        order: str,
        *,
        descending: bool = False,
        after: Cursor | None = None,
        limit: int,
        only: Iterable[Scope] | None = None,
        leave_out: Iterable[Scope] = (),
        left_out: Callable[[str], bool] | None = None,
    ) -> tuple[list[str], Cursor | None]:
        """The ids of up to ``limit`` records in ``scope`` after ``after``, and the cursor
        of the next page (None on the last).

        ``only``: keep the records of these groups (scopes inside ``scope``), merged.
        ``leave_out``: drop the records of these groups; ``left_out(id)`` says whether a
        record is in one of them (cheaper than asking their indexes).
        A cursor resumes strictly after the key it carries, whatever happened since to
        the record it came from. Raises UnknownCursor for a cursor naming nothing known.
        """
        sort = self.orders[order]
        after_key = None if after is None else sort.key_of_cursor(after)
        count = limit + 1
        if only is not None:
            iterators = [_iterate(self.keys(group, order), after_key, descending) for group in set(only)]
            found = list(islice(heapq.merge(*iterators, reverse=descending), count))
        else:
            base = self.keys(scope, order)
            excluded = [self.keys(group, order) for group in set(leave_out) if self.holds(group)]
            if excluded:
                id_of = sort.id_of
                found = _walk_excluding(base, excluded, lambda key: left_out(id_of(key)), after_key, descending, count)
            else:
                found = list(islice(_iterate(base, after_key, descending), count))
        next_cursor = sort.cursor_of(found[limit - 1]) if len(found) > limit else None
        ids = found[:limit] if sort.id_of is ID_ORDER.id_of else list(map(sort.id_of, found[:limit]))
        return ids, next_cursor


def _iterate(keys: SortedList, after_key: Any, descending: bool) -> Iterator:
    """Keys strictly after ``after_key`` in the walking direction."""
    if after_key is None:
        return reversed(keys) if descending else iter(keys)
    if descending:
        return keys.irange(maximum=after_key, inclusive=(True, False), reverse=True)
    return keys.irange(minimum=after_key, inclusive=(False, True))


def _walk_excluding(
    base: SortedList,
    excluded: list[SortedList],
    left_out: Callable[[Any], bool],
    after_key: Any,
    descending: bool,
    count: int,
) -> list:
    """Up to ``count`` keys of ``base`` after ``after_key`` that are not excluded.

    Runs of excluded keys are jumped over in O(log^2 n) each, using the excluded
    groups' own indexes, so a page never scans them one by one.
    """
    found: list = []
    cursor = after_key
    while len(found) < count:
        jumped = False
        for key in _iterate(base, cursor, descending):
            if left_out(key):
                cursor = _end_of_excluded_run(base, key, excluded, descending)
                jumped = True
                break
            found.append(key)
            cursor = key
            if len(found) == count:
                break
        if not jumped:
            break
    return found


def _end_of_excluded_run(base: SortedList, first: Any, excluded_lists: list[SortedList], descending: bool) -> Any:
    """The last key of the run of excluded keys in ``base`` that starts at ``first``.

    base[p..p+r] are all excluded exactly when the excluded indexes hold r + 1 keys
    between its ends (the excluded keys are a subset of base), a test that is
    monotone in r: so gallop, then bisect.
    """
    start = base.index(first)
    step = -1 if descending else 1
    room = start if descending else len(base) - 1 - start

    def all_excluded(r: int) -> bool:
        other = base[start + step * r]
        low, high = (other, first) if descending else (first, other)
        return sum(keys.bisect_right(high) - keys.bisect_left(low) for keys in excluded_lists) == r + 1

    known, probe = 0, 1
    while probe <= room and all_excluded(probe):
        known, probe = probe, probe * 2
    bound = min(probe, room + 1)
    while bound - known > 1:
        middle = (known + bound) // 2
        if all_excluded(middle):
            known = middle
        else:
            bound = middle
    return base[start + step * known]
