"""yandex.cloud.cloudregistry.v1.RegistryService: Cloud Registry's registries (every kind and type),
their access bindings and IP permissions, and the artifact tree under a path (ListArtifacts)."""

from __future__ import annotations

from functools import partial

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.filters import REGISTRY_NAME_FILTER
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.access import access_binding_rpcs, ip_permission_rpcs
from emulator.rpc.services.cloudregistry.artifacts import list_artifacts_rpc
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import once, set_timestamp
from emulator.rpc.services.paged import ListSpec, list_handler
from emulator.rpc.services.registries import registry_operation as _registry_operation
from emulator.state.records import CLOUD_REGISTRY_API, Action, Registry

# "Default value: 10" (ListRegistriesRequest.page_size); name_filter: "name" with = or != (IN and
# NOT IN are taken too, as Container Registry's filters take them).
LIST = ListSpec(
    scopes=(("folder_id", "cloud_folder"),),
    filter=REGISTRY_NAME_FILTER,
    orders=("id",),
    has_order_by=False,
    filter_field="name_filter",
    matching=("kind", "type", "status"),
    default_page_size=10,
)
BINDINGS_OF = Target("resource_id", "cloud_registry")  # the access-binding methods' resource
ON_REGISTRY = Target("registry_id", "cloud_registry")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.RegistryService",
    endpoint="cloud-registry",
    methods_declared={
        "Get": Read(gets="registry_id", on=ON_REGISTRY),
        "List": Read(lists="registries", spec=LIST),
        "Create": Mutating(on="folder_id"),  # made at the call, CREATING while its operation pends
        "Update": Mutating(on=ON_REGISTRY),
        "Delete": Mutating(deferred=True, on=ON_REGISTRY),
        "ForceDelete": Mutating(deferred=True, on=ON_REGISTRY),  # "along with all its repositories and data"
        "ListIpPermissions": Read(on=ON_REGISTRY),
        "SetIpPermissions": Mutating(on=ON_REGISTRY),
        "UpdateIpPermissions": Mutating(on=ON_REGISTRY),
        "ListAccessBindings": Read(on=BINDINGS_OF),
        "SetAccessBindings": Mutating(on=BINDINGS_OF),
        "UpdateAccessBindings": Mutating(on=BINDINGS_OF),
        "ListArtifacts": Read(lists="artifacts", on=ON_REGISTRY),  # paged: checked when its page is read
    },
)
UPDATABLE = ("name", "labels", "description", "properties", "pattern_filter")  # UpdateRegistryRequest's


def encode_registry(registry: Registry) -> Message:
    message_type = message_class(f"{CLOUD_REGISTRY}.Registry")
    message = message_type(
        id=registry.id,
        folder_id=registry.folder_id,
        name=registry.name,
        description=registry.description,
        kind=message_type.Kind.Value(registry.kind),
        type=message_type.Type.Value(registry.type),
        status=message_type.Status.Value(registry.status),
        labels=registry.labels,
        properties=registry.properties,
    )
    set_timestamp(message.created_at, registry.created_at_ns)
    set_timestamp(message.modified_at, registry.modified_at_ns or registry.created_at_ns)
    if registry.include_patterns or registry.exclude_patterns:
        message.pattern_filter.include_patterns.extend(registry.include_patterns)
        message.pattern_filter.exclude_patterns.extend(registry.exclude_patterns)
    return message


def _patterns(request: Message) -> dict[str, tuple[str, ...]]:
    return {
        "include_patterns": tuple(request.pattern_filter.include_patterns),
        "exclude_patterns": tuple(request.pattern_filter.exclude_patterns),
    }


registry_operation = partial(_registry_operation, package=CLOUD_REGISTRY, encode=encode_registry)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store = context.store
    registry_of = partial(store.registry_in, CLOUD_REGISTRY_API)

    def get(request: Message, call: Call) -> Message:
        with store.atomic():
            return encode_registry(registry_of(request.registry_id))

    def create(request: Message, call: Call) -> Message:
        message_type = message_class(f"{CLOUD_REGISTRY}.Registry")

        def perform():
            registry = store.add_registry(
                request.folder_id,
                name=request.name,
                labels=dict(request.labels),
                unique_name=bool(request.name),
                kind=message_type.Kind.Name(request.kind),
                type=message_type.Type.Name(request.type),
                description=request.description,
                properties=dict(request.properties),
                **_patterns(request),
            )
            return registry_operation(call, "Create", registry, answers=True, action=Action.CREATE_REGISTRY)

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = fields_to_update(request, UPDATABLE)

        def perform():
            registry = registry_of(request.registry_id)
            store.update_registry(
                registry.id,
                name=request.name if "name" in fields else None,
                labels=dict(request.labels) if "labels" in fields else None,
                description=request.description if "description" in fields else None,
                properties=dict(request.properties) if "properties" in fields else None,
                **(_patterns(request) if "pattern_filter" in fields else {}),
            )
            return registry_operation(call, "Update", registry, answers=True)

        return once(store, call, request, perform)

    def delete(request: Message, call: Call, force: bool = False) -> Message:
        def perform():
            registry = registry_of(request.registry_id)
            action = Action.FORCE_DELETE_REGISTRY if force else Action.DELETE_REGISTRY
            return registry_operation(call, "Delete", registry, action=action)

        return once(store, call, request, perform)

    def bindings_of(registry_id: str):
        registry = registry_of(registry_id)
        return registry.access_bindings, registry.folder_id

    return {
        "Get": get,
        "List": list_handler(store, context.tokens, store.list_registries, encode_registry),
        "Create": create,
        "Update": update,
        "Delete": delete,
        "ForceDelete": partial(delete, force=True),
        **ip_permission_rpcs(context, registry_of, package=CLOUD_REGISTRY, plural="s"),
        "ListArtifacts": list_artifacts_rpc(context),
        **access_binding_rpcs(
            context,
            SERVICE.short,
            bindings_of,
            lambda registry_id, bindings: store.set_registry_access(registry_id, access_bindings=bindings),
        ),
    }
