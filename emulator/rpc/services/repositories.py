"""yandex.cloud.containerregistry.v1.RepositoryService: repositories and their access bindings."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.errors import InvalidArgument
from emulator.api.filters import REPOSITORY_NAME_FILTER
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.access import access_binding_rpcs
from emulator.rpc.services.operations import new_operation, once
from emulator.rpc.services.paged import ListSpec, list_handler
from emulator.state.records import Action, Repository
from emulator.state.repositories import REPOSITORY_ORDERS, check_repository_name

# registry_id wins over folder_id, as the request's documentation says.
LIST = ListSpec(
    scopes=(("registry_id", "registry"), ("folder_id", "folder")),
    filter=REPOSITORY_NAME_FILTER,
    orders=REPOSITORY_ORDERS,
)
BINDINGS_OF = Target("resource_id", "repository")  # the access-binding methods' resource
SERVICE = Service(
    f"{CONTAINER_REGISTRY}.RepositoryService",
    endpoint="container-registry",
    methods_declared={
        "Get": Read(gets="repository_id"),
        "GetByName": Read(gets="repository_name"),
        "List": Read(lists="repositories", spec=LIST),
        "Upsert": Mutating(on=Target("name", "repository_path")),  # name: <registry_id>/<repository path>
        "Delete": Mutating(deferred=True, on="repository_id"),
        "ListAccessBindings": Read(on=BINDINGS_OF),
        "SetAccessBindings": Mutating(on=BINDINGS_OF),
        "UpdateAccessBindings": Mutating(on=BINDINGS_OF),
    },
)


def encode_repository(repository: Repository) -> Message:
    return message_class(f"{CONTAINER_REGISTRY}.Repository")(name=repository.name, id=repository.id)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens
    metadata = f"{CONTAINER_REGISTRY}.{{}}RepositoryMetadata"

    def get(request: Message, call: Call) -> Message:
        return encode_repository(store.get_repository(request.repository_id))

    def get_by_name(request: Message, call: Call) -> Message:
        return encode_repository(store.get_repository_by_name(request.repository_name))

    def upsert(request: Message, call: Call) -> Message:
        registry_id, _, path = request.name.partition("/")
        if not path:
            raise InvalidArgument.field("name", f"must be <registry_id>/<repository path>, got {request.name!r}")
        check_repository_name(registry_id, path, "name")

        def perform():
            registry = store.get_registry(registry_id)
            repository = store.add_repository(registry.id, path, kept=True)
            return new_operation(
                call,
                "Upsert repository",
                metadata.format("Upsert"),
                {"repository_id": repository.id},
                registry.folder_id,
                f"{CONTAINER_REGISTRY}.Repository",
                encode_repository(repository),
            )

        return once(store, call, request, perform)

    def delete(request: Message, call: Call) -> Message:
        def perform():
            repository = store.get_repository(request.repository_id)
            folder_id = store.folder_of_repository(repository)
            return new_operation(
                call, "Delete repository", metadata.format("Delete"), {"repository_id": repository.id}, folder_id,
                action=Action.DELETE_REPOSITORY, target=repository.id,
            )  # fmt: skip

        return once(store, call, request, perform)

    def bindings_of(repository_id: str):
        repository = store.get_repository(repository_id)
        return repository.access_bindings, store.folder_of_repository(repository)

    return {
        "Get": get,
        "GetByName": get_by_name,
        "List": list_handler(store, tokens, store.list_repositories, encode_repository),
        "Upsert": upsert,
        "Delete": delete,
        **access_binding_rpcs(context, "RepositoryService", bindings_of, store.set_repository_access),
    }
