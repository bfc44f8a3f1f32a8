"""How two endpoints' answers to one read request compare, for ``ycr-emulator diff``: pure
functions of protobuf messages (no calls), so every rule is testable without sockets.

What is compared: the status code (and the page a List failed on); when both answer OK, every
field of every resource. What is not: error messages, page tokens, the number of pages, and the
order of resources wherever the request leaves it undefined (see ``order_of``). A List cut at the
page bound is compared over what the pages read settle (``_cut_lists``), never taken for agreement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from emulator.api.catalogue import Method
from emulator.api.wire import message_class, resource_id
from emulator.rpc.services import CATALOGUE

# From the catalogue: the repeated field of each List's response, the name of one of its resources,
# and what each Get answers.
LISTED = {method.short: method.lists for method in CATALOGUE.lists}
SINGULAR = {method.short: method.resource for method in CATALOGUE.lists}
GOTTEN = {method.short: method.resource for method in CATALOGUE.gets}


def _observable(method: Method) -> dict[str, Callable[[Message], Any]]:
    """The sort fields of a List whose value a listed resource shows, as a comparable value (a
    Timestamp as (seconds, nanos)). Image has no last_modified field, so an order by it cannot be
    checked beyond what precedes it; a List without order_by has no defined order, and one paged by
    position (no ListSpec) declares none the comparison relies on: none."""
    if method.spec is None or not method.spec.has_order_by:
        return {}
    resource = message_class(method.response_type).DESCRIPTOR.fields_by_name[method.lists].message_type
    fields: dict[str, Callable[[Message], Any]] = {}
    for name in method.spec.orders:
        field = resource.fields_by_name.get(name)
        if field is None:
            continue
        if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
            fields[name] = lambda message, name=name: (getattr(message, name).seconds, getattr(message, name).nanos)
        else:
            fields[name] = lambda message, name=name: getattr(message, name)
    return fields


OBSERVABLE_ORDER_FIELDS = {method.short: _observable(method) for method in CATALOGUE.lists}
SHOWN_IDS = 1  # ids named in a List's summary
# How much of a List's answer was compared (see Verdict).
ALL, PART, NONE = "all", "part", "none"


@dataclass(frozen=True)
class Answer:
    """One target's answer to one request. A List's ``resources`` are its pages concatenated;
    ``failed_page`` says which page's call failed (1 for the request itself)."""

    code: str
    resources: tuple[Message, ...] = ()
    failed_page: int = 0
    first_page: int = 0  # resources on the first page
    truncated: bool = False  # the bound was reached (MAX_PAGES or MAX_RESOURCES) and the List said there was more


@dataclass(frozen=True)
class Verdict:
    """How two answers compare: ``difference``, in a few words, or None; ``extent``, how much of
    a List was compared: ALL, PART (past the page bound: what the pages read settle) or NONE
    (past the bound and nothing settled); ``only_a``/``only_b``: ids one side lists and the
    other does not, for the report's summary."""

    difference: str | None = None
    extent: str = ALL
    only_a: frozenset[str] = frozenset()
    only_b: frozenset[str] = frozenset()


def order_of(method: str, order_by: str) -> tuple[Callable[[Message], tuple], bool]:
    """(key, total): what of a List's order both targets must agree on.

    An order that names ``id`` (anywhere: after the unique id nothing can change the order) is
    total: the List is one exact sequence, even when a field before the id is one the resource
    does not show (an image's ``last_modified``). Any other order leaves ties in any order (the
    emulator breaks them by id; nothing says production does): the key holds the order's fields
    up to the first one the resource does not show, and resources with equal keys compare as a
    set. An empty order_by (the default order is not documented), RegistryService.List (no
    order_by) or an order starting with ``last_modified`` gives the empty key: one set.
    Only requests both targets answered OK get here, so the text is a valid order."""
    names = [item.split()[0] for item in order_by.split(",") if item.split()]
    if "id" in names:
        return (lambda resource: (resource_id(resource),)), True
    fields = OBSERVABLE_ORDER_FIELDS[method]
    chosen = []
    for name in names:
        if name not in fields:
            break
        chosen.append(fields[name])
    return (lambda resource: tuple(get(resource) for get in chosen)), False


def canonical(resources: Iterable[Message], key: Callable[[Message], tuple]) -> list[Message]:
    """The resources with each run of equal keys sorted by id (then bytes): two answers that
    differ only in the order of ties become equal."""
    return [
        resource
        for _, run in _runs(resources, key)
        for resource in sorted(
            run, key=lambda message: (resource_id(message), message.SerializeToString(deterministic=True))
        )
    ]


def _runs(resources: Iterable[Message], key: Callable[[Message], tuple]) -> list[tuple[tuple, list[Message]]]:
    """The resources as runs of equal keys, in order."""
    runs: list[tuple[tuple, list[Message]]] = []
    for resource in resources:
        value = key(resource)
        if runs and runs[-1][0] == value:
            runs[-1][1].append(resource)
        else:
            runs.append((value, [resource]))
    return runs


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_difference(a: Message, b: Message, path: str = "") -> str | None:
    """The first field (in .proto order) where two messages of one type differ, as
    ``path: A's value != B's value``; None when they are equal."""
    if a == b:
        return None
    for descriptor in a.DESCRIPTOR.fields:
        name = f"{path}{descriptor.name}"
        left, right = getattr(a, descriptor.name), getattr(b, descriptor.name)
        if left == right:
            continue
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            return f"{name}: {_short(dict(left))} != {_short(dict(right))}"
        if descriptor.is_repeated:
            if descriptor.message_type is not None and len(left) == len(right):
                for index, (one, other) in enumerate(zip(left, right, strict=True)):
                    found = field_difference(one, other, f"{name}[{index}].")
                    if found:
                        return found
            return f"{name}: {_short(list(left))} != {_short(list(right))}"
        if descriptor.message_type is not None:
            return field_difference(left, right, f"{name}.")
        return f"{name}: {_short(left)} != {_short(right)}"
    return "unknown fields differ"


def _ids(ids: Iterable[str]) -> str:
    names = sorted(ids)
    return ", ".join(names[:SHOWN_IDS]) + (f" (+{len(names) - SHOWN_IDS})" if len(names) > SHOWN_IDS else "")


def _only(only_a: set[str], only_b: set[str], note: str = "") -> Verdict:
    parts = [f"only in A: {_ids(only_a)}" if only_a else "", f"only in B: {_ids(only_b)}" if only_b else ""]
    text = "; ".join(part for part in parts if part) + (f" ({note})" if note else "")
    return Verdict(text, only_a=frozenset(only_a), only_b=frozenset(only_b))


def _contents(method: str, left: Iterable[Message], right: Iterable[Message]) -> str | None:
    """The first resource (by A's order) whose fields differ from B's of the same id."""
    theirs = {resource_id(item): item for item in right}
    for item in left:
        found = field_difference(item, theirs[resource_id(item)]) if resource_id(item) in theirs else None
        if found:
            return f"{SINGULAR[method]} {resource_id(item)}: {found}"
    return None


def _whole_lists(method: str, left: list[Message], right: list[Message], key, total: bool) -> Verdict:
    """Two Lists read to their end."""
    if not total:
        left, right = canonical(left, key), canonical(right, key)
    if left == right:
        return Verdict()
    only_a = Counter(map(resource_id, left)) - Counter(map(resource_id, right))
    only_b = Counter(map(resource_id, right)) - Counter(map(resource_id, left))
    if only_a or only_b:
        return _only(set(only_a), set(only_b))
    found = _contents(method, left, right)
    if found:
        return Verdict(found)
    position = next(index for index, (one, other) in enumerate(zip(left, right, strict=True)) if one != other)
    return Verdict(f"order at {position + 1}: A {resource_id(left[position])}, B {resource_id(right[position])}")


def _cut_lists(method: str, a: Answer, b: Answer, key, total: bool) -> Verdict:
    """Two Lists of which one or both were cut at the bound: their runs of ties are walked side
    by side. A run is whole unless it is the last one read of a cut List (that List may go on
    with more of it); in a total order every run is one resource, always whole. Equal runs
    must have equal keys; what one side lists beside a whole run of the other's is a
    difference; where both runs are cut, nothing further is settled."""
    runs_a, runs_b = _runs(a.resources, key), _runs(b.resources, key)
    compared, position = False, 0
    for index, ((key_a, run_a), (key_b, run_b)) in enumerate(zip(runs_a, runs_b)):
        if key_a != key_b:
            return Verdict(f"order at {position + 1}: A {resource_id(run_a[0])}, B {resource_id(run_b[0])}")
        whole_a = total or not a.truncated or index < len(runs_a) - 1
        whole_b = total or not b.truncated or index < len(runs_b) - 1
        if not (whole_a or whole_b):
            break
        ids_a, ids_b = set(map(resource_id, run_a)), set(map(resource_id, run_b))
        only_a, only_b = (ids_a - ids_b if whole_b else set()), (ids_b - ids_a if whole_a else set())
        if only_a or only_b:
            return _only(only_a, only_b)
        found = _contents(method, run_a, run_b)
        if found:
            return Verdict(found)
        compared, position = True, position + len(run_a)
    for ended, other, name in ((a, b, "A"), (b, a, "B")):
        if not ended.truncated and len(other.resources) > len(ended.resources):  # it ended; the other has more
            more = set(map(resource_id, other.resources)) - set(map(resource_id, ended.resources))
            note = f"{name} ends after {len(ended.resources)} {LISTED[method]}"
            if not more:
                return Verdict(note)
            return _only(set(), more, note) if name == "A" else _only(more, set(), note)
    return Verdict(extent=PART if compared else NONE)


def list_verdict(method: str, order_by: str, a: Answer, b: Answer) -> Verdict:
    listed = LISTED[method]
    key, total = order_of(method, order_by)
    if a.truncated or b.truncated:
        verdict = _cut_lists(method, a, b, key, total)
    else:
        verdict = _whole_lists(method, list(a.resources), list(b.resources), key, total)
    if verdict.difference is None and a.first_page != b.first_page:
        return Verdict(f"first page: {a.first_page} != {b.first_page} {listed}")
    return verdict


def status_text(result: Answer) -> str:
    return result.code if result.failed_page <= 1 else f"{result.code} on page {result.failed_page}"


def judge(method: str, fields: dict, a: Answer, b: Answer) -> Verdict:
    """How the two answers compare. Error answers agree when their codes (and the page that
    failed) do: messages are not compared."""
    if (a.code, a.failed_page) != (b.code, b.failed_page):
        return Verdict(f"status code: {status_text(a)} != {status_text(b)}")
    if a.code != "OK":
        return Verdict()
    if method in LISTED:
        return list_verdict(method, fields.get("order_by", ""), a, b)
    return Verdict(field_difference(a.resources[0], b.resources[0]))


def difference(method: str, fields: dict, a: Answer, b: Answer) -> str | None:
    """What differs between the two answers, in a few words; None when nothing compared differs."""
    return judge(method, fields, a, b).difference
