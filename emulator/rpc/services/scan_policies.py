"""yandex.cloud.containerregistry.v1.ScanPolicyService: a registry's scan policy (one at most)."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import as_json, new_operation, once, set_timestamp
from emulator.state.scans import ScanPolicy

SERVICE = Service(
    f"{CONTAINER_REGISTRY}.ScanPolicyService",
    endpoint="container-registry",
    methods_declared={
        "Get": Read(gets="scan_policy_id"),
        "GetByRegistry": Read(on=Target("registry_id", "registry")),
        "Create": Mutating(on="registry_id"),
        "Update": Mutating(on="scan_policy_id"),
        "Delete": Mutating(on="scan_policy_id"),
    },
)
UPDATABLE = ("name", "description", "rules")  # what UpdateScanPolicyRequest.update_mask may name


def encode_scan_policy(policy: ScanPolicy) -> Message:
    message = message_class(f"{CONTAINER_REGISTRY}.ScanPolicy")(
        id=policy.id,
        registry_id=policy.registry_id,
        name=policy.name,
        description=policy.description,
        disabled=policy.disabled,
    )
    json_format.ParseDict(policy.rules, message.rules)
    set_timestamp(message.created_at, policy.created_at_ns)
    return message


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store = context.store

    def policy_operation(call: Call, verb: str, policy: ScanPolicy, answers: bool = True):
        response = (f"{CONTAINER_REGISTRY}.ScanPolicy", encode_scan_policy(policy)) if answers else ()
        return new_operation(
            call, f"{verb} scan policy", f"{CONTAINER_REGISTRY}.{verb}ScanPolicyMetadata",
            {"scan_policy_id": policy.id}, store.get_registry(policy.registry_id).folder_id, *response,
        )  # fmt: skip

    def get(request: Message, call: Call) -> Message:
        return encode_scan_policy(store.get_scan_policy(request.scan_policy_id))

    def get_by_registry(request: Message, call: Call) -> Message:
        return encode_scan_policy(store.scan_policy_of_registry(request.registry_id))

    def create(request: Message, call: Call) -> Message:
        def perform():
            policy = store.add_scan_policy(
                request.registry_id, name=request.name, description=request.description, rules=as_json(request.rules)
            )
            return policy_operation(call, "Create", policy)

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = fields_to_update(request, UPDATABLE)

        def perform():
            policy = store.update_scan_policy(
                request.scan_policy_id,
                name=request.name if "name" in fields else None,
                description=request.description if "description" in fields else None,
                rules=as_json(request.rules) if "rules" in fields else None,
            )
            return policy_operation(call, "Update", policy)

        return once(store, call, request, perform)

    def delete(request: Message, call: Call) -> Message:
        def perform():
            return policy_operation(call, "Delete", store.delete_scan_policy(request.scan_policy_id), answers=False)

        return once(store, call, request, perform)

    return {"Get": get, "GetByRegistry": get_by_registry, "Create": create, "Update": update, "Delete": delete}
