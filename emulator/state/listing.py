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

from emulator.state.collector import collector_paused


@dataclass(frozen=True, slots=True)
class Scope:
    """What a List covers, or a group a filter names: e.g. Scope("folder", "b1g...")."""

    kind: str
    value: Hashable


def scopes_in(folder: Scope, registry_id: str, name: str) -> tuple[Scope, Scope, Scope]:
    """The scopes a List may name that hold an image or a repository ``name`` (<registry_id>/<path>):
    its ``folder`` (as its registry's API lists it), its registry, its repository."""
    return folder, Scope("registry", registry_id), Scope("repository", name)


# A cursor is a sort key in a compact, bounded form: integers, then a record id. How a
# key becomes a cursor and back is each kind's business (see Order).
Cursor = tuple[Any, ...]


class UnknownCursor(LookupError):
    """A cursor that names nothing the store knows (e.g. a repository serial it never gave)."""


@dataclass(frozen=True, slots=True)
class Order:
    """One sort order of a kind of record.

    ``key``: the record's sort key, unique (ties broken by id); ``id_of``: the record id
    inside a key; ``sort_attribute``: the attribute the key sorts by first (None: the key is
    the id), the key then being (that attribute, id), so bulk loading can sort with plain
    attribute keys and make the keys without a call per record; ``cursor_of`` / ``key_of_cursor``:
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


DEFAULT_MAX_SERIALS = 100_000


class NameSerials:
    """Numbers for names, given the first time a page stops at a name: a name can be longer than a
    page token, its number cannot. At most ``max_names`` are kept, the oldest forgotten first (a
    token naming a forgotten one is then not a token this emulator issued: a walk that old starts
    again), so that Lists over ever new names retain nothing without bound."""

    def __init__(self, max_names: int = DEFAULT_MAX_SERIALS):
        self.max_names = max_names
        self._names: dict[int, str] = {}  # serial -> name, oldest first
        self._serials: dict[str, int] = {}
        self._next = 0

    def serial_of(self, name: str) -> int:
        serial = self._serials.get(name)
        if serial is None:
            serial = self._serials[name] = self._next
            self._names[serial] = name
            self._next += 1
            while len(self._names) > self.max_names:
                oldest = next(iter(self._names))
                del self._serials[self._names.pop(oldest)]
        return serial

    def name_of(self, serial: int) -> str:
        name = self._names.get(serial) if type(serial) is int else None
        if name is None:
            raise UnknownCursor(serial)
        return name


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


@dataclass(frozen=True, slots=True)
class Field:
    """A field an order may name: the record attribute it reads, and how a cursor carries its
    value: a string by its serial (``serials``), an integer as itself; the id is the cursor's
    last part."""

    attribute: str
    serials: NameSerials | None = None


class Descending:
    """A string that sorts the other way round: a key part walked against the order's direction.
    (Integers are negated instead.)"""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return self.value == other.value

    def __ne__(self, other: object) -> bool:
        return self.value != other.value

    def __lt__(self, other: Descending) -> bool:
        return self.value > other.value

    def __le__(self, other: Descending) -> bool:
        return self.value >= other.value

    def __gt__(self, other: Descending) -> bool:
        return self.value < other.value

    def __ge__(self, other: Descending) -> bool:
        return self.value <= other.value

    __hash__ = None

    def __repr__(self) -> str:
        return f"Descending({self.value!r})"


def _flipped(value: Any) -> Any:
    return -value if type(value) is int else Descending(value)


def _unflipped(value: Any) -> Any:
    return -value if type(value) is int else value.value


def parse_order_name(name: str) -> tuple[tuple[str, bool], ...]:
    """The parts of an order's name: ``"-name,created_at"`` is ((field, reversed), ...) where a
    reversed field sorts against the walking direction; the id comes last, ascending if unnamed."""
    parts = tuple((item.removeprefix("-"), item.startswith("-")) for item in name.split(","))
    return parts if parts[-1][0] == "id" else (*parts, ("id", False))


def _flipped_column(values: list) -> list:
    """A column of key parts turned round: integers negated, strings wrapped (one wrapper per
    distinct string, so a repository's images share theirs)."""
    if values and type(values[0]) is int:
        return [-value for value in values]
    wrappers: dict[str, Descending] = {}
    return [wrappers.get(value) or wrappers.setdefault(value, Descending(value)) for value in values]


def composite_order(fields: dict[str, Field], name: str) -> Order:
    """The order ``name`` (see parse_order_name) over ``fields``: keys are tuples of the fields'
    values (reversed ones negated or wrapped in Descending), ending with the id; cursors carry
    each value as an integer (a serial for strings), then the id."""
    parts = [(fields[field], flip) for field, flip in parse_order_name(name)]
    getters = [attrgetter(field.attribute) for field, _ in parts]
    flips = [flip for _, flip in parts]
    head, (_, id_flipped) = parts[:-1], parts[-1]

    def key(record) -> tuple:
        return tuple(_flipped(get(record)) if flip else get(record) for get, flip in zip(getters, flips))

    def id_of(key: tuple) -> str:
        return key[-1].value if id_flipped else key[-1]

    def cursor_of(key: tuple) -> Cursor:
        cursor = []
        for value, (field, flip) in zip(key, head):
            value = _unflipped(value) if flip else value
            cursor.append(field.serials.serial_of(value) if field.serials is not None else value)
        return (*cursor, id_of(key))

    def key_of_cursor(cursor: Cursor) -> tuple:
        if len(cursor) != len(parts):
            raise UnknownCursor(cursor)
        values = []
        for value, (field, flip) in zip(cursor, head):
            value = field.serials.name_of(value) if field.serials is not None else value
            values.append(_flipped(value) if flip else value)
        return (*values, Descending(cursor[-1]) if id_flipped else cursor[-1])

    return Order(key=key, id_of=id_of, cursor_of=cursor_of, key_of_cursor=key_of_cursor)


DEFAULT_MAX_LAZY_KEYS = 2_000_000
# SortedList's own layout (sortedcontainers 2.x): sublists of at most _load keys, each one's last
# key in _maxes. What ``fill_sorted`` writes directly, when it is there.
_LAYOUT = ("_lists", "_maxes", "_index", "_len", "_load")
_KNOWN_LAYOUT = all(hasattr(SortedList(), name) for name in _LAYOUT)


def fill_sorted(sorted_keys: SortedList, ordered: list) -> None:
    """Add keys that are in order already: into an empty list, laid out directly as
    ``SortedList.update`` would after sorting them again (which, for a million tuple keys,
    costs a second of comparisons that change nothing). Anything else: ``update``."""
    if not (_KNOWN_LAYOUT and not sorted_keys and type(sorted_keys) is SortedList):
        sorted_keys.update(ordered)
        return
    load = sorted_keys._load
    sorted_keys._lists.extend(ordered[start : start + load] for start in range(0, len(ordered), load))
    sorted_keys._maxes.extend(sublist[-1] for sublist in sorted_keys._lists)
    sorted_keys._len = len(ordered)
    del sorted_keys._index[:]


class ScopedIndex:
    """One SortedList of keys per (scope, order) for one kind of record.

    ``orders``: the kind's own orders, kept for every scope (the first one, ``id``, lists a
    scope's ids); ``fields``: what other orders may name, built per scope on first use from the
    records ``record_of(id)`` returns, at most ``max_lazy_keys`` keys of them kept together.
    """

    def __init__(
        self,
        orders: dict[str, Order],
        *,
        fields: dict[str, Field] | None = None,
        record_of: Callable[[str], Any] | None = None,
        max_lazy_keys: int = DEFAULT_MAX_LAZY_KEYS,
    ):
        self.orders = orders
        self.fields = fields or {}
        self._record_of = record_of
        self.max_lazy_keys = max_lazy_keys
        # scope -> order name -> keys; a scope's lazily built lists sit beside its own orders' lists
        self._lists: dict[Scope, dict[str, SortedList]] = {}
        self._first = next(iter(orders))
        self._composites: dict[str, Order] = {}  # lazily built orders, by name
        self._lazy: OrderedDict[tuple[Scope, str], SortedList] = OrderedDict()  # least recently used first
        self._lazy_keys = 0  # keys in the lazily built lists, together

    def order(self, name: str) -> Order:
        """The order ``name``: one of the kind's own, or one of its fields' (see parse_order_name)."""
        order = self.orders.get(name) or self._composites.get(name)
        if order is None:
            order = self._composites[name] = composite_order(self.fields, name)
        return order

    def _orders_of(self, scope: Scope) -> dict[str, SortedList]:
        lists = self._lists.get(scope)
        if lists is None:
            lists = self._lists[scope] = {order: SortedList() for order in self.orders}
        return lists

    def _keys_of(self, record) -> dict[str, Any]:
        """The record's key in each of the kind's own orders; equal keys of sharing orders are one object."""
        keys: dict[str, Any] = {}
        for name, order in self.orders.items():
            key = order.key(record)
            if order.shares is not None and keys[order.shares] == key:
                key = keys[order.shares]
            keys[name] = key
        return keys

    def add(self, record, scopes: Iterable[Scope]) -> None:
        keys = self._keys_of(record)
        for scope in scopes:
            for name, sorted_keys in self._orders_of(scope).items():
                key = keys.get(name)
                if key is None:  # a lazily built order of this scope
                    key = keys[name] = self._composites[name].key(record)
                if name not in self.orders:
                    self._lazy_keys += 1
                sorted_keys.add(key)

    def remove(self, record, scopes: Iterable[Scope]) -> None:
        keys = self._keys_of(record)
        for scope in scopes:
            lists = self._lists[scope]
            for name, sorted_keys in lists.items():
                key = keys.get(name)
                if key is None:
                    key = keys[name] = self._composites[name].key(record)
                if name not in self.orders:
                    self._lazy_keys -= 1
                sorted_keys.remove(key)
            if not lists[self._first]:
                del self._lists[scope]  # an emptied scope keeps nothing
                for name in lists:
                    self._lazy.pop((scope, name), None)

    def update(self, record, scopes: Iterable[Scope], change: Callable[[Any], None]) -> None:
        """Apply ``change`` to an indexed record, moving its keys in the orders whose key it changes."""
        scopes = tuple(scopes)
        names = {name for scope in scopes for name in self._lists[scope]}
        before = {name: self.order(name).key(record) for name in names}
        change(record)
        after = self._keys_of(record)
        for name in names:
            key = after.get(name)
            if key is None:
                key = self._composites[name].key(record)
            if key == before[name]:
                continue
            for scope in scopes:
                sorted_keys = self._lists[scope].get(name)
                if sorted_keys is not None:
                    sorted_keys.remove(before[name])
                    sorted_keys.add(key)

    def add_many(self, records: list, scopes_of: Callable[[Any], tuple[Scope, ...]], group_of=None) -> None:
        """Index many records: deal them out to their scopes once (in id order), then sort each
        scope's share per order with plain attribute keys (stable: ties stay in id order), far
        cheaper than comparing key tuples. Each key is made once and shared by the scopes (and
        by a sharing order). ``group_of(record)``: records of one group share their scopes
        (computed once). The lazily built lists of the scopes it adds to are dropped (built
        again when used)."""
        records = sorted(records, key=by_id)
        ids = list(map(by_id, records))
        positions_by_scope: dict[Scope, list[int]] = {}
        lists_of_group: dict[Any, tuple[list[int], ...]] = {}
        for position, record in enumerate(records):
            group = group_of(record) if group_of else record.id
            lists = lists_of_group.get(group)
            if lists is None:
                lists = lists_of_group[group] = tuple(positions_by_scope.setdefault(s, []) for s in scopes_of(record))
            for positions in lists:
                positions.append(position)
        shared = {order.shares for order in self.orders.values()}
        # of the orders another one shares: their keys by position in ``records``, and how they sorted
        made: dict[str, tuple[list, dict]] = {}
        for name, order in self.orders.items():
            values = list(map(attrgetter(order.sort_attribute), records)) if order.sort_attribute else None
            # the key is (that attribute, id), or the id: made in C, not by a call per record
            if values is not None:
                keys = list(zip(values, ids))
            else:
                keys = ids if order.key is by_id else list(map(order.key, records))
            # scopes holding the same records sort alike: (how many, first, last) -> [(positions, sorted)]
            sorted_alike: dict[tuple[int, int, int], list[tuple[list[int], list[int]]]] = {}
            if order.shares is not None:
                other_keys, other_sorted = made[order.shares]
                keys = [other if other == key else key for key, other in zip(keys, other_keys)]
                if keys == other_keys:  # every key shared: so is the order they sort in
                    sorted_alike = other_sorted
            if name in shared:
                made[name] = (keys, sorted_alike)
            for scope, positions in positions_by_scope.items():
                if values is not None:
                    alike = sorted_alike.setdefault((len(positions), positions[0], positions[-1]), [])
                    ordered = next((done for members, done in alike if members == positions), None)
                    if ordered is None:
                        ordered = sorted(positions, key=values.__getitem__)
                        alike.append((positions, ordered))
                    positions = ordered
                fill_sorted(self._orders_of(scope)[name], list(map(keys.__getitem__, positions)))
        for scope in positions_by_scope:
            for name in [name for name in self._lists[scope] if name not in self.orders]:
                self._lazy_keys -= len(self._lists[scope].pop(name))
                self._lazy.pop((scope, name), None)

    def contents(self) -> dict:
        """What the index holds, for a caller that frees it elsewhere (Store.reset)."""
        return self._lists

    def keys(self, scope: Scope, order: str) -> SortedList:
        lists = self._lists.get(scope)
        if lists is None:
            return SortedList()
        sorted_keys = lists.get(order)
        if sorted_keys is None:
            sorted_keys = lists[order] = self._build(scope, order)
        if order not in self.orders:
            self._lazy[(scope, order)] = sorted_keys
            self._lazy.move_to_end((scope, order))
            self._evict(keep=(scope, order))
        return sorted_keys

    def _build(self, scope: Scope, name: str) -> SortedList:
        """The keys of a lazily built order for ``scope``, from its records: stable sorts on
        plain values, from the last field to the first, so no key tuples are compared; then the
        keys, made a column (a field) at a time."""
        parts = parse_order_name(name)
        records = list(map(self._record_of, self._lists[scope][self._first]))  # in id order
        if parts[-1][1]:
            records.reverse()
        for field, flip in reversed(parts[:-1]):
            records.sort(key=attrgetter(self.fields[field].attribute), reverse=flip)
        sorted_keys = SortedList()
        with collector_paused():
            columns = []
            for field, flip in parts:
                values = list(map(attrgetter(self.fields[field].attribute), records))
                columns.append(_flipped_column(values) if flip else values)
            fill_sorted(sorted_keys, list(zip(*columns)))  # in order already
        self._lazy_keys += len(sorted_keys)
        return sorted_keys

    def _evict(self, keep: tuple[Scope, str]) -> None:
        """Drop the least recently used lazily built lists while they hold too many keys."""
        while self._lazy_keys > self.max_lazy_keys and len(self._lazy) > 1:
            (scope, name), sorted_keys = self._lazy.popitem(last=False)
            if (scope, name) == keep:
                self._lazy[(scope, name)] = sorted_keys
                continue
            lists = self._lists.get(scope)
            if lists is not None and lists.get(name) is sorted_keys:
                del lists[name]
                self._lazy_keys -= len(sorted_keys)

    def lazy_keys(self) -> int:
        """How many keys the lazily built lists hold together."""
        return self._lazy_keys

    def holds(self, scope: Scope) -> bool:
        """Whether any record lies in ``scope``."""
        return scope in self._lists

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
        keep: Callable[[str], bool] | None = None,
    ) -> tuple[list[str], Cursor | None]:
        """The ids of up to ``limit`` records in ``scope`` after ``after``, and the cursor
        of the next page (None on the last).

        ``order``: one of the kind's orders, or a name parse_order_name reads.
        ``only``: keep the records of these groups (scopes inside ``scope``), merged.
        ``leave_out``: drop the records of these groups; ``left_out(id)`` says whether a
        record is in one of them (cheaper than asking their indexes).
        ``keep(id)``: drop the records it refuses, walking the rest in order (so a page costs the
        records it passes over: a List's conditions that no index serves).
        A cursor resumes strictly after the key it carries, whatever happened since to
        the record it came from. Raises UnknownCursor for a cursor naming nothing known.
        """
        sort = self.order(order)
        after_key = None if after is None else sort.key_of_cursor(after)
        count = limit + 1
        id_of = sort.id_of
        if keep is not None:
            if only is not None:
                iterators = [_iterate(self.keys(group, order), after_key, descending) for group in set(only)]
                walked = heapq.merge(*iterators, reverse=descending)
            else:
                walked = _iterate(self.keys(scope, order), after_key, descending)
                if any(self.holds(group) for group in leave_out):
                    walked = (key for key in walked if not left_out(id_of(key)))
            found = list(islice((key for key in walked if keep(id_of(key))), count))
        elif only is not None:
            iterators = [_iterate(self.keys(group, order), after_key, descending) for group in set(only)]
            found = list(islice(heapq.merge(*iterators, reverse=descending), count))
        else:
            base = self.keys(scope, order)
            excluded = [self.keys(group, order) for group in set(leave_out) if self.holds(group)]
            if excluded:
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
