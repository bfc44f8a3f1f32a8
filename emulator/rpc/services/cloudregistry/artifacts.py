"""yandex.cloud.cloudregistry.v1.ArtifactService: the nodes of Cloud Registry registries' trees
(folders, packages, artifacts; see emulator.state.artifacts for how Docker images map onto them),
by id, by path and in lists; deleting one deletes what lies under it."""

from __future__ import annotations

import re
from collections.abc import Callable

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.errors import InvalidArgument, shown
from emulator.api.filters import BLANKS, FilterSpec, NameFilter, parse_filter
from emulator.api.ordering import parse_fields
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.access import access_binding_rpcs
from emulator.rpc.services.operations import new_operation, once, set_timestamp
from emulator.rpc.services.paged import offset_page
from emulator.state.artifacts import Artifact, normal_path
from emulator.state.listing import Scope
from emulator.state.records import CLOUD_REGISTRY_API, Action
from emulator.state.store import Store

ON_ARTIFACT = Target("artifact_id", "artifact")
ON_REGISTRY = Target("registry_id", "cloud_registry")
BINDINGS_OF = Target("resource_id", "artifact")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.ArtifactService",
    endpoint="cloud-registry",
    methods_declared={
        "Get": Read(gets="artifact_id", on=ON_ARTIFACT),
        "GetByPath": Read(on=ON_REGISTRY),
        "List": Read(lists="artifacts", on=Target("folder_id", "folder")),  # or its registry_id: the handler checks
        "Delete": Mutating(deferred=True, on=ON_ARTIFACT),
        "UpsertFolder": Mutating(on=ON_REGISTRY),
        "ListAccessBindings": Read(on=BINDINGS_OF),
        "SetAccessBindings": Mutating(on=BINDINGS_OF),
        "UpdateAccessBindings": Mutating(on=BINDINGS_OF),
    },
)
# The values name_filter and path_filter compare: an artifact's name (a tag or a digest too) and path.
NAME_FILTER = FilterSpec("name", re.compile(r"[^\x00-\x1f\"']{1,255}"))
PATH_FILTER = FilterSpec("path", re.compile(r"[^\x00-\x1f\"']{0,1024}"))
ORDERS = ("id", "name", "created_at", "modified_at")  # "Valid fields: name, created_at, modified_at"
LABEL = re.compile(r"([^=]+)=(.*)")
DEFAULT_PAGE_SIZE = 10  # "Default value: 10" (ListArtifactsRequest.page_size)


def encode_artifact(artifact: Artifact, *, manifests: list[tuple[str, int]] = ()) -> Message:
    message_type = message_class(f"{CLOUD_REGISTRY}.Artifact")
    message = message_type(
        id=artifact.id,
        path=artifact.path,
        name=artifact.name,
        kind=message_type.Kind.Value(artifact.kind),
        status=message_type.Status.Value(artifact.status),
        created_by=artifact.created_by,
        registry_id=artifact.registry_id,
    )
    set_timestamp(message.created_at, artifact.created_at_ns)
    set_timestamp(message.modified_at, artifact.modified_at_ns)
    image = artifact.image
    if image is not None:
        docker = message.content.docker
        docker.manifest_digest = image.digest
        if manifests:  # an image list: a manifest list (the emulator keeps no platforms)
            for digest, size in manifests:
                docker.manifest_list.manifests.add().manifest_descriptor.CopyFrom(
                    message_class(f"{CLOUD_REGISTRY}.Descriptor")(digest=digest, size=size)
                )
        else:
            docker.image_manifest.config.digest, docker.image_manifest.config.size = (
                image.config.digest,
                image.config.size,
            )
            for layer in image.layers:
                docker.image_manifest.layers.add(digest=layer.digest, size=layer.size)
    return message


def encoder(store: Store) -> Callable[[Artifact], Message]:
    """Encode an artifact, an image list's with the manifests it references (read under the lock)."""

    def encode(artifact: Artifact) -> Message:
        listed = store.images_listed_by(artifact.image) if artifact.image is not None else []
        return encode_artifact(artifact, manifests=[(image.digest, image.compressed_size) for image in listed])

    return encode


def _conditions(request: Message) -> tuple[Callable[[Artifact], bool], list]:
    """What List's filters keep, and the order_by's (field, descending) pairs; every broken rule
    is reported together."""
    violations, tests = [], []
    for field, spec, attribute in (("name_filter", NAME_FILTER, "name"), ("path_filter", PATH_FILTER, "path")):
        try:
            parsed: NameFilter | None = parse_filter(getattr(request, field), spec, field)
        except InvalidArgument as error:
            violations.extend(error.violations)
            continue
        if parsed is not None:  # a path with "/" around it is the same path
            names = frozenset(name.strip("/") for name in parsed.names)
            tests.append(lambda node, a=attribute, n=names, f=parsed: (getattr(node, a) in n) != f.negated)
    labels = []
    for position, label in enumerate(request.labels):
        match = LABEL.fullmatch(label.strip(BLANKS))
        if match is None:
            violations.append(("labels", f"element {position}: must be key=value, got {shown(label)!r}"))
        labels.append(label)
    if labels:  # the emulator's artifacts carry no labels: a label condition keeps none
        tests.append(lambda node: False)
    artifact_type = message_class(f"{CLOUD_REGISTRY}.Artifact")
    kinds = {artifact_type.Kind.Name(kind) for kind in request.kind}
    statuses = {artifact_type.Status.Name(status) for status in request.status}
    if kinds:
        tests.append(lambda node: node.kind in kinds)
    if statuses:
        tests.append(lambda node: node.status in statuses)
    if request.HasField("created_after"):
        after = request.created_after.ToNanoseconds()
        tests.append(lambda node: node.created_at_ns >= after)
    if request.HasField("created_before"):
        before = request.created_before.ToNanoseconds()
        tests.append(lambda node: node.created_at_ns < before)
    try:
        order = parse_fields(request.order_by, ORDERS)
    except InvalidArgument as error:
        violations.extend(error.violations)
        order = ()
    if violations:
        raise InvalidArgument(violations)
    return (lambda node: all(test(node) for test in tests)), list(order)


def _sorted(nodes: list[Artifact], order: list[tuple[str, bool]]) -> list[Artifact]:
    keys = {"id": lambda n: n.id, "name": lambda n: n.name, "created_at": lambda n: n.created_at_ns,
            "modified_at": lambda n: n.modified_at_ns}  # fmt: skip
    for field, descending in reversed(order):  # the last field first: stable sorts keep the earlier ones' ties
        nodes.sort(key=keys[field], reverse=descending)
    return nodes


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens
    encode = encoder(store)

    def get(request: Message, call: Call) -> Message:
        return encode(store.get_artifact(request.artifact_id))

    def get_by_path(request: Message, call: Call) -> Message:
        return encode(store.get_artifact_by_path(request.registry_id, request.path))

    def list_artifacts(request: Message, call: Call) -> Message:
        keep, order = _conditions(request)
        registry_type = message_class(f"{CLOUD_REGISTRY}.Registry")
        kinds = {registry_type.Kind.Name(kind) for kind in request.registry_kind}
        types = {registry_type.Type.Name(kind) for kind in request.registry_type}
        if request.registry_id:  # the more precise of the two, when both are given
            scope = Scope("cloud_registry", request.registry_id)
        elif request.folder_id:
            scope = Scope("cloud_folder", request.folder_id)
        else:
            raise InvalidArgument.field("registry_id", "one of folder_id or registry_id is required")

        def fetch() -> list[Artifact]:
            with store.atomic():
                if scope.kind == "cloud_registry":
                    registries = [store.registry_in(CLOUD_REGISTRY_API, scope.value)]
                else:
                    registries = store.list_registries(scope, limit=10**9)[0]
                call.authorize(registries[0].folder_id if scope.kind == "cloud_registry" else scope.value)
                chosen = [r.id for r in registries if (not kinds or r.kind in kinds) and (not types or r.type in types)]
                return _sorted([node for node in store.artifacts_in(chosen) if keep(node)], order)

        nodes, next_page_token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=next_page_token)
        response.artifacts.extend(encode(node) for node in nodes)
        return response

    def delete(request: Message, call: Call) -> Message:
        def perform():  # the action's check (deletable?) runs when the operation starts
            artifact = store.get_artifact(request.artifact_id)
            return new_operation(
                call, "Delete artifact", f"{CLOUD_REGISTRY}.DeleteArtifactMetadata", {"artifact_id": artifact.id},
                store.registries[artifact.registry_id].folder_id, action=Action.DELETE_ARTIFACT, target=artifact.id,
            )  # fmt: skip

        return once(store, call, request, perform)

    def upsert_folder(request: Message, call: Call) -> Message:
        def perform():
            folder = store.upsert_folder(request.registry_id, request.path, created_by=call.principal.subject)
            artifact = store.get_artifact(folder.id)
            return new_operation(
                call, "Upsert folder", f"{CLOUD_REGISTRY}.UpsertFolderMetadata",
                {"registry_id": folder.registry_id, "path": request.path}, store.registries[folder.registry_id].folder_id,
                f"{CLOUD_REGISTRY}.Artifact", encode(artifact),
            )  # fmt: skip

        return once(store, call, request, perform)

    return {
        "Get": get,
        "GetByPath": get_by_path,
        "List": list_artifacts,
        "Delete": delete,
        "UpsertFolder": upsert_folder,
        **access_binding_rpcs(context, SERVICE.short, store.artifact_access, store.set_artifact_access),
    }


def list_artifacts_rpc(context: ServiceContext) -> Handler:
    """RegistryService.ListArtifacts: what lies right under a path of a registry."""
    store, tokens = context.store, context.tokens
    encode = encoder(store)

    def handle(request: Message, call: Call) -> Message:
        if not request.registry_id:
            raise InvalidArgument.field("registry_id", "is required")
        path = normal_path(request.path)

        def fetch() -> list[Artifact]:
            with store.atomic():
                call.authorize(store.registry_in(CLOUD_REGISTRY_API, request.registry_id).folder_id)
                return store.children_of(request.registry_id, path)

        nodes, next_page_token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=next_page_token)
        response.artifacts.extend(encode(node) for node in nodes)
        return response

    return handle
