"""The access-binding methods (List, Set, Update) that registries, repositories and artifacts
share, and the IP-permission methods of both APIs' registries.

Bindings and IP permissions are stored and returned as set; the emulator's auth modes decide
access, not them. A service configures these methods with how to find a resource's bindings and
how to replace them.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from emulator.api.wire import message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import new_operation, once
from emulator.rpc.services.paged import DEFAULT_PAGE_SIZE, ListQuery, page
from emulator.state.listing import Scope
from emulator.state.records import AccessBinding, IpPermission, Registry

ACCESS = "yandex.cloud.access"
_ADD, _REMOVE = 1, 2  # AccessBindingAction


def binding_of(message: Message) -> AccessBinding:
    return AccessBinding(message.role_id, message.subject.id, message.subject.type)


def apply_deltas(current: tuple, deltas: list[tuple[int, object]]) -> list:
    """ADD appends what is not there yet; REMOVE takes out what is (absent: no change)."""
    result = list(current)
    for action, item in deltas:
        if action == _ADD and item not in result:
            result.append(item)
        elif action == _REMOVE and item in result:
            result.remove(item)
    return result


def access_binding_rpcs(
    context: ServiceContext,
    kind: str,
    find: Callable[[str], tuple[tuple[AccessBinding, ...], str]],
    replace: Callable[[str, list[AccessBinding]], None],
) -> dict[str, Handler]:
    """ListAccessBindings, SetAccessBindings and UpdateAccessBindings for one kind of resource.

    ``find(resource_id)``: (its bindings, its folder), NOT_FOUND if unknown;
    ``replace(resource_id, bindings)``: store the new set.
    """
    store, tokens = context.store, context.tokens

    def list_bindings(request: Message, call: Call) -> Message:
        query = ListQuery(f"{kind}/ListAccessBindings", Scope(kind, request.resource_id), None, "position", False, 0)

        def fetch(after):
            call.authorize_target(request)  # after the page token, before the bindings are read
            bindings, _ = find(request.resource_id)
            start = after[0] if after else 0
            limit = request.page_size or DEFAULT_PAGE_SIZE
            shown = bindings[start : start + limit]
            return list(shown), (start + limit, "") if start + limit < len(bindings) else None

        bindings, next_page_token = page(tokens, query, request.page_token, fetch)
        response = message_class(f"{ACCESS}.ListAccessBindingsResponse")(next_page_token=next_page_token)
        for binding in bindings:
            item = response.access_bindings.add(role_id=binding.role_id)
            item.subject.id, item.subject.type = binding.subject_id, binding.subject_type
        return response

    def change(request: Message, call: Call, method: str, new_bindings: Callable[[tuple], list]) -> Message:
        def perform():
            bindings, folder_id = find(request.resource_id)
            replace(request.resource_id, new_bindings(bindings))
            return new_operation(
                call,
                f"{method} access bindings",
                f"{ACCESS}.{method}AccessBindingsMetadata",
                {"resource_id": request.resource_id},
                folder_id,
            )

        return once(store, call, request, perform)

    def set_bindings(request: Message, call: Call) -> Message:
        return change(request, call, "Set", lambda _: [binding_of(item) for item in request.access_bindings])

    def update_bindings(request: Message, call: Call) -> Message:
        deltas = [(delta.action, binding_of(delta.access_binding)) for delta in request.access_binding_deltas]
        return change(request, call, "Update", lambda current: apply_deltas(current, deltas))

    return {
        "ListAccessBindings": list_bindings,
        "SetAccessBindings": set_bindings,
        "UpdateAccessBindings": update_bindings,
    }


def _ip_permission(message: Message) -> IpPermission:
    return IpPermission(type(message).Action.Name(message.action), message.ip)


def ip_permission_rpcs(
    context: ServiceContext, registry_of: Callable[[str], Registry], *, package: str, plural: str = ""
) -> dict[str, Handler]:
    """``ListIpPermission``, ``SetIpPermission``, ``UpdateIpPermission`` of a registry service in
    ``package`` (Cloud Registry's are named in the ``plural``: ``ListIpPermissions``, and its Set
    request's field ``ip_permissions``); ``registry_of(id)``: the registry as that API sees it."""
    store = context.store

    def list_permissions(request: Message, call: Call) -> Message:
        with store.atomic():
            permissions = registry_of(request.registry_id).ip_permissions
        response = message_class(f"{package}.ListIpPermissionsResponse")()
        for permission in permissions:
            response.permissions.add(action=permission.action, ip=permission.ip)
        return response

    def change(request: Message, call: Call, verb: str, new_permissions) -> Message:
        def perform():
            registry = registry_of(request.registry_id)
            store.set_registry_access(registry.id, ip_permissions=new_permissions(registry.ip_permissions))
            return new_operation(
                call,
                f"{verb} IP permissions",
                f"{package}.{verb}IpPermission{plural}Metadata",
                {"registry_id": registry.id},
                registry.folder_id,
            )

        return once(store, call, request, perform)

    def set_permissions(request: Message, call: Call) -> Message:
        permissions = [_ip_permission(item) for item in getattr(request, f"ip_permission{plural}")]
        return change(request, call, "Set", lambda _: permissions)

    def update_permissions(request: Message, call: Call) -> Message:
        deltas = [(delta.action, _ip_permission(delta.ip_permission)) for delta in request.ip_permission_deltas]
        return change(request, call, "Update", lambda current: apply_deltas(current, deltas))

    return {
        f"ListIpPermission{plural}": list_permissions,
        f"SetIpPermission{plural}": set_permissions,
        f"UpdateIpPermission{plural}": update_permissions,
    }
