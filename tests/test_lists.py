"""The behaviours every List shares, as one suite parametrized over every List the catalogue
declares (its ListSpec: scope fields, filter, orders): pages of any size hold what one big page
holds, each resource once; a higher-precedence scope wins; no scope, a bad page size or a page
token of another query is INVALID_ARGUMENT naming the field; a name filter keeps exactly the named
resources. A new List gets all of this by being declared."""

from __future__ import annotations

import grpc
import pytest

from conftest import iter_pages, rpc_error, violation_fields
from emulator.api.wire import message_class, resource_id
from emulator.rpc.services import CATALOGUE
from tests.support.world import build_world

LISTS = CATALOGUE.keyset_lists  # their shared rules (Cloud Registry's position-paged Lists: their own tests)
IDS = [method.short for method in LISTS]


@pytest.fixture(scope="module")
def world(running_emulator):
    running_emulator.reset()
    return build_world(running_emulator)


def _call(channel, method):
    response = message_class(method.response_type)
    return channel.unary_unary(
        f"/{method.full}", request_serializer=lambda r: r.SerializeToString(), response_deserializer=response.FromString
    )


def _request(method, **fields):
    return message_class(method.request_type)(**fields)


def _orders(method) -> list[str]:
    if not method.spec.has_order_by:
        return [""]
    return ["", *(f"{name}{direction}" for name in method.spec.orders for direction in ("", " desc"))]


def _scopes(method, world) -> list[dict]:
    return [{field: value} for field, kind in method.spec.scopes for value in world.scope_values(kind)]


def _oneof(method, field: str) -> str | None:
    oneof = message_class(method.request_type).DESCRIPTOR.fields_by_name[field].containing_oneof
    return oneof.name if oneof is not None else None


def _filtered(method, resource) -> str | None:
    """The value of the field the List's filter names, as the filter spells it (an enum by its name)."""
    field = resource.DESCRIPTOR.fields_by_name.get(method.spec.filter.field)
    if field is None:
        return None
    value = getattr(resource, field.name)
    return field.enum_type.values_by_number[value].name if field.enum_type is not None else value


def _ids(resources) -> list[str]:
    return [resource_id(resource) or resource.name for resource in resources]


@pytest.mark.parametrize("method", LISTS, ids=IDS)
def test_pages_of_any_size_hold_one_big_page_in_every_scope_and_order(world, channel, method):
    call = _call(channel, method)
    for scope in _scopes(method, world):
        for order_by in _orders(method):
            extra = {"order_by": order_by} if order_by else {}
            big = getattr(call(_request(method, page_size=1000, **scope, **extra), timeout=10), method.lists)
            assert big, (scope, order_by)
            for page_size in (1, 2, 5):
                walk = iter_pages(call, _request(method, **scope, **extra), page_size, items=method.lists, timeout=10)
                pages = [_ids(page) for page in walk]
                assert all(len(page) == page_size for page in pages[:-1]), (scope, order_by, page_size)
                assert sum(pages, []) == _ids(big), (scope, order_by, page_size)


@pytest.mark.parametrize("method", LISTS, ids=IDS)
def test_the_first_scope_field_set_wins(world, channel, method):
    call = _call(channel, method)
    fields = [field for field, _ in method.spec.scopes]
    kinds = dict(method.spec.scopes)
    for higher, lower in zip(fields, fields[1:]):
        if _oneof(method, higher) is not None and _oneof(method, higher) == _oneof(method, lower):
            continue  # one field of a oneof: setting one unsets the other
        value = world.scope_values(kinds[higher])[0]
        alone = getattr(call(_request(method, page_size=1000, **{higher: value}), timeout=10), method.lists)
        for other in world.scope_values(kinds[lower]):
            both = call(_request(method, page_size=1000, **{higher: value, lower: other}), timeout=10)
            assert _ids(getattr(both, method.lists)) == _ids(alone), (higher, lower, other)


@pytest.mark.parametrize("method", LISTS, ids=IDS)
def test_no_scope_and_a_bad_page_size_are_invalid_naming_the_field(world, channel, method):
    call = _call(channel, method)
    error = rpc_error(call, _request(method))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    last = method.spec.scopes[-1][0]
    assert violation_fields(error) == {_oneof(method, last) or last}  # an exactly_one oneof is named itself
    scope = _scopes(method, world)[0]
    error = rpc_error(call, _request(method, page_size=1001, **scope))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {"page_size"}


@pytest.mark.parametrize("method", LISTS, ids=IDS)
def test_a_page_token_serves_only_the_query_that_made_it(world, channel, method):
    call = _call(channel, method)
    scopes = _scopes(method, world)
    first = call(_request(method, page_size=1, **scopes[0]), timeout=10)
    assert first.next_page_token
    # a value the filter's grammar takes (a dry run's result has no name: its filter names the policy)
    name = _filtered(method, getattr(first, method.lists)[0]) or "other-policy"
    others = [scope for scope in scopes[1:] if scope != scopes[0]]
    if method.spec.has_order_by:
        others.append({**scopes[0], "order_by": f"{method.spec.orders[0]} desc"})
    others.append({**scopes[0], method.spec.filter_field: f'{method.spec.filter.field} != "{name}"'})
    for other in others:
        error = rpc_error(call, _request(method, page_token=first.next_page_token, **other))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {"page_token"}, other
    for unrelated in LISTS:
        if unrelated is not method:
            request = _request(unrelated, page_token=first.next_page_token, **_scopes(unrelated, world)[0])
            error = rpc_error(_call(channel, unrelated), request)
            assert violation_fields(error) == {"page_token"}, unrelated.short


NAMED = [
    method for method in LISTS if method.resource != "dry_run_lifecycle_policy_result"
]  # see test_lifecycle_policies


@pytest.mark.parametrize("method", NAMED, ids=[method.short for method in NAMED])
def test_a_name_filter_keeps_exactly_the_named_resources(world, channel, method):
    call = _call(channel, method)
    field = method.spec.filter.field
    for scope in _scopes(method, world):
        listed = getattr(call(_request(method, page_size=1000, **scope), timeout=10), method.lists)
        names = sorted({_filtered(method, resource) for resource in listed})
        for name in names[:2]:
            kept = getattr(
                call(
                    _request(method, page_size=1000, **{method.spec.filter_field: f'{field} = "{name}"'}, **scope),
                    timeout=10,
                ),
                method.lists,
            )
            assert _ids(kept) == [
                item for resource, item in zip(listed, _ids(listed)) if _filtered(method, resource) == name
            ]
            dropped = getattr(
                call(
                    _request(method, page_size=1000, **{method.spec.filter_field: f'{field} != "{name}"'}, **scope),
                    timeout=10,
                ),
                method.lists,
            )
            assert _ids(dropped) == [
                item for resource, item in zip(listed, _ids(listed)) if _filtered(method, resource) != name
            ]


@pytest.mark.parametrize("method", [m for m in LISTS if m.spec.has_order_by], ids=lambda m: m.short)
def test_an_order_of_several_fields_pages_like_one_big_page(world, channel, method):
    """Every field the List orders by, together (the last one first, descending): the order is
    built on first use, for every List (a List whose index knew no fields answered INTERNAL)."""
    call = _call(channel, method)
    order_by = ", ".join([f"{method.spec.orders[-1]} desc", *method.spec.orders[:-1]])
    scope = _scopes(method, world)[0]
    big = getattr(call(_request(method, page_size=1000, order_by=order_by, **scope), timeout=10), method.lists)
    walk = iter_pages(call, _request(method, order_by=order_by, **scope), 2, items=method.lists, timeout=10)
    assert sum((_ids(page) for page in walk), []) == _ids(big)
