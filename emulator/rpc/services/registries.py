"""yandex.cloud.containerregistry.v1.RegistryService: registries, their access bindings and IP permissions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.filters import REGISTRY_NAME_FILTER
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.access import access_binding_rpcs, ip_permission_rpcs
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import new_operation, once, set_timestamp
from emulator.rpc.services.paged import ListSpec, list_handler
from emulator.state.records import Action, Registry
from emulator.state.scans import SECURE_RULES

LIST = ListSpec(
    scopes=(("folder_id", "folder"),),
    filter=REGISTRY_NAME_FILTER,
    orders=("id",),
    has_order_by=False,
)
BINDINGS_OF = Target("resource_id", "registry")  # the access-binding methods' resource
SERVICE = Service(
    f"{CONTAINER_REGISTRY}.RegistryService",
    endpoint="container-registry",
    methods_declared={
        "Get": Read(gets="registry_id"),
        "List": Read(lists="registries", spec=LIST),
        "Create": Mutating(on="folder_id"),  # made at the call, CREATING while its operation pends
        "Update": Mutating(on="registry_id"),
        "Delete": Mutating(deferred=True, on="registry_id"),
        # ForceDelete: declared by the official SDK (not the public .proto files); deletes the images too.
        "ForceDelete": Mutating(deferred=True, on="registry_id"),
        "ListIpPermission": Read(on="registry_id"),
        "SetIpPermission": Mutating(on="registry_id"),
        "UpdateIpPermission": Mutating(on="registry_id"),
        "ListAccessBindings": Read(on=BINDINGS_OF),
        "SetAccessBindings": Mutating(on=BINDINGS_OF),
        "UpdateAccessBindings": Mutating(on=BINDINGS_OF),
    },
)
UPDATABLE = ("name", "labels")  # what UpdateRegistryRequest.update_mask may name


def encode_registry(registry: Registry) -> Message:
    message_type = message_class(f"{CONTAINER_REGISTRY}.Registry")
    message = message_type(
        id=registry.id,
        folder_id=registry.folder_id,
        name=registry.name,
        status=message_type.Status.Value(registry.status),
        labels=registry.labels,
    )
    set_timestamp(message.created_at, registry.created_at_ns)
    return message


def registry_operation(
    call: Call,
    verb: str,
    registry: Registry,
    *,
    answers: bool = False,
    action: Action = Action.NONE,
    package: str = CONTAINER_REGISTRY,
    encode: Callable[[Registry], Message] = encode_registry,
):
    """The operation of a registry method of ``package`` (Cloud Registry's has the same shapes):
    ``<verb>RegistryMetadata`` naming the registry, the Registry (``encode``d) as its response if it
    ``answers`` (else Empty), and its pending ``action``."""
    response = (f"{package}.Registry", encode(registry)) if answers else ()
    return new_operation(
        call, f"{verb} registry", f"{package}.{verb}RegistryMetadata", {"registry_id": registry.id},
        registry.folder_id, *response, action=action, target=registry.id if action is not Action.NONE else "",
    )  # fmt: skip


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens

    def get(request: Message, call: Call) -> Message:
        with store.atomic():
            return encode_registry(store.get_registry(request.registry_id))

    def create(request: Message, call: Call) -> Message:
        def perform():
            registry = store.add_registry(
                request.folder_id, name=request.name, labels=dict(request.labels), unique_name=bool(request.name)
            )
            if request.secure:  # "created with pre-setup scanning policy (on push and on schedule every 7 days)"
                store.add_scan_policy(registry.id, rules=SECURE_RULES)
            # CREATING while the operation pends
            return registry_operation(call, "Create", registry, answers=True, action=Action.CREATE_REGISTRY)

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = fields_to_update(request, UPDATABLE)

        def perform():
            registry = store.get_registry(request.registry_id)
            store.update_registry(
                registry.id,
                name=request.name if "name" in fields else None,
                labels=dict(request.labels) if "labels" in fields else None,
            )
            return registry_operation(call, "Update", registry, answers=True)

        return once(store, call, request, perform)

    def delete(request: Message, call: Call, force: bool = False) -> Message:
        def perform():
            registry = store.get_registry(request.registry_id)
            action = Action.FORCE_DELETE_REGISTRY if force else Action.DELETE_REGISTRY
            return registry_operation(call, "Delete", registry, action=action)

        return once(store, call, request, perform)

    def bindings_of(registry_id: str):
        registry = store.get_registry(registry_id)
        return registry.access_bindings, registry.folder_id

    return {
        "Get": get,
        "List": list_handler(store, tokens, store.list_registries, encode_registry),
        "Create": create,
        "Update": update,
        "Delete": delete,
        "ForceDelete": partial(delete, force=True),
        **ip_permission_rpcs(context, store.get_registry, package=CONTAINER_REGISTRY),
        **access_binding_rpcs(
            context,
            "RegistryService",
            bindings_of,
            lambda registry_id, bindings: store.set_registry_access(registry_id, access_bindings=bindings),
        ),
    }
