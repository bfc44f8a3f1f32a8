"""The List requests of every service: scope, filter, order and page size, then keyset paging.

A service declares what its List accepts as a ListSpec; ``ListSpec.parse`` reads a
request's rules that are not annotations (reporting every broken one together, as the
annotations are), and ``page`` turns the page token into a store cursor and the next
cursor into a token. The store does the rest (emulator.state.listing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.message import Message

from emulator.api.errors import InvalidArgument
from emulator.api.filters import FilterSpec, NameFilter, parse_filter
from emulator.api.ordering import parse_order_by
from emulator.api.wire import message_class
from emulator.rpc.paging import PageTokens
from emulator.state.listing import Cursor, Scope, UnknownCursor
from emulator.state.store import Store

if TYPE_CHECKING:
    from emulator.rpc.pipeline import Call

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size_of(request: Message, default: int = DEFAULT_PAGE_SIZE) -> int:
    if request.page_size < 0:
        raise InvalidArgument.field("page_size", f"must be >= 0, got {request.page_size}")
    if request.page_size > MAX_PAGE_SIZE:  # also an annotation; kept so the rule reads whole here
        raise InvalidArgument.field("page_size", f"must be <= {MAX_PAGE_SIZE}, got {request.page_size}")
    return request.page_size or default


@dataclass(frozen=True)
class ListQuery:
    """A List request's rules that are not annotations, parsed. ``method``: which List (a
    page token of one List is not one of another's)."""

    method: str
    scope: Scope
    name_filter: NameFilter | None
    order: str  # the order's name in the store's index (see emulator.api.ordering), walked descending or not
    descending: bool
    limit: int
    matching: tuple[tuple[str, frozenset[str]], ...] = ()  # (record attribute, the values it may have)

    def fingerprint(self) -> str:
        """What a page token is bound to: everything but the page size."""
        canonical_filter = self.name_filter.canonical() if self.name_filter else ""
        scope = (self.scope.kind, str(self.scope.value))
        matching = ";".join(f"{attribute}={','.join(sorted(values))}" for attribute, values in self.matching)
        return "|".join((self.method, *scope, canonical_filter, self.order, str(self.descending), matching))

    @property
    def names_in(self) -> frozenset[str] | None:
        """The names the filter keeps (None: no such condition)."""
        return self.name_filter.names if self.name_filter and not self.name_filter.negated else None

    @property
    def names_not_in(self) -> frozenset[str]:
        return self.name_filter.names if self.name_filter and self.name_filter.negated else frozenset()


@dataclass(frozen=True)
class ListSpec:
    """What one List method accepts.

    ``scopes``: (request field, scope kind) pairs, the first one set wins;
    ``filter``: what the request's ``filter_field`` may name; ``orders``: the fields ``order_by`` may
    name (one or several, comma-separated, each with asc or desc), the first being the default and
    what breaks ties: the id (``has_order_by=False``: the request has no order_by); ``matching``: the
    request's repeated enum fields a record's attribute of the same name must be one of (empty:
    any); ``default_page_size``: what a page_size of 0 means.
    """

    scopes: tuple[tuple[str, str], ...]
    filter: FilterSpec
    orders: tuple[str, ...]
    has_order_by: bool = True
    filter_field: str = "filter"
    matching: tuple[str, ...] = ()
    default_page_size: int = DEFAULT_PAGE_SIZE

    def _scope(self, request: Message) -> Scope:
        for field, kind in self.scopes:
            value = getattr(request, field)
            if value:
                return Scope(kind, value)
        fields = [field for field, _ in self.scopes]
        wanted = fields[0] if len(fields) == 1 else f"one of {', '.join(fields[:-1])} or {fields[-1]}"
        raise InvalidArgument.field(fields[-1], f"{wanted} is required")

    def _order(self, request: Message) -> tuple[str, bool]:
        return parse_order_by(request.order_by if self.has_order_by else "", self.orders)

    def _matching(self, request: Message) -> tuple[tuple[str, frozenset[str]], ...]:
        fields = request.DESCRIPTOR.fields_by_name
        return tuple(
            (name, frozenset(fields[name].enum_type.values_by_number[value].name for value in getattr(request, name)))
            for name in self.matching
        )

    def parse(self, request: Message, method: str) -> ListQuery:
        """Parse every rule; report all broken ones together, like the annotations. ``method``: the
        List's full name (its page tokens are bound to it)."""
        parts, violations = [], []
        rules = (
            self._scope,
            lambda r: parse_filter(getattr(r, self.filter_field), self.filter, self.filter_field),
            self._order,
            lambda r: page_size_of(r, self.default_page_size),
        )
        for parse in rules:
            try:
                parts.append(parse(request))
            except InvalidArgument as error:
                violations.extend(error.violations)
        if violations:
            raise InvalidArgument(violations)
        scope, name_filter, (order, descending), limit = parts
        return ListQuery(method, scope, name_filter, order, descending, limit, self._matching(request))


def page(
    tokens: PageTokens,
    query: ListQuery,
    page_token: str,
    fetch: Callable[[Cursor | None], tuple[list, Cursor | None]],
) -> tuple[list, str]:
    """One page of records and the next page token ("" on the last page).

    The token is checked before ``fetch`` runs (before existence and permission), and
    ``fetch(after)`` returns the records and the cursor of the next page.
    """
    fingerprint = query.fingerprint()
    after = tokens.read(fingerprint, page_token) if page_token else None
    try:
        records, next_cursor = fetch(after)
    except UnknownCursor:
        raise InvalidArgument.field("page_token", "is not a token this emulator issued") from None
    return records, tokens.issue(fingerprint, next_cursor) if next_cursor else ""


def page_of_store(
    store: Store,
    tokens: PageTokens,
    call: Call,
    query: ListQuery,
    page_token: str,
    list_records: Callable[..., tuple[list, Cursor | None]],
) -> tuple[list, str]:
    """``page`` for a store List method (list_images, list_repositories, list_registries): the
    folder check and the page read one consistent state."""

    def fetch(after: Cursor | None) -> tuple[list, Cursor | None]:
        with store.atomic():
            call.authorize(store.folder_of(query.scope))
            matching = {"matching": query.matching} if query.matching else {}
            return list_records(
                query.scope,
                names_in=query.names_in,
                names_not_in=query.names_not_in,
                order=query.order,
                descending=query.descending,
                after=after,
                limit=query.limit,
                **matching,
            )

    return page(tokens, query, page_token, fetch)


def list_handler(
    store: Store, tokens: PageTokens, list_records: Callable[..., tuple[list, Cursor | None]], encode: Callable
) -> Callable[[Message, Call], Message]:
    """The handler of a List over a store method, as the catalogue declares it: its ListSpec parsed,
    one page read, each record encoded into the response's listed field beside ``next_page_token``."""

    def handle(request: Message, call: Call) -> Message:
        method = call.method
        query = method.spec.parse(request, method.full)
        records, next_page_token = page_of_store(store, tokens, call, query, request.page_token, list_records)
        listed = [encode(record) for record in records]
        return message_class(method.response_type)(**{method.lists: listed}, next_page_token=next_page_token)

    return handle


def offset_page(
    tokens: PageTokens, method: str, request: Message, fetch: Callable[[], list], default: int
) -> tuple[list, str]:
    """A page of a list the state makes whole on each call (``fetch()``), by position: the token
    carries the offset, bound to ``method`` and to everything the request says but its page."""
    limit = page_size_of(request, default)
    query = type(request)()
    query.CopyFrom(request)
    query.ClearField("page_size"), query.ClearField("page_token")
    said = hashlib.blake2b(query.SerializeToString(deterministic=True), digest_size=16).hexdigest()
    listing = ListQuery(method, Scope("request", said), None, "position", False, limit)

    def read(after):
        nodes = fetch()
        start = after[0] if after else 0
        return nodes[start : start + limit], (start + limit, "") if start + limit < len(nodes) else None

    return page(tokens, listing, request.page_token, read)
