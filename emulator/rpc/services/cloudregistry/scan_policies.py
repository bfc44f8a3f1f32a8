"""yandex.cloud.cloudregistry.v1.ScanPolicyService: a registry's scan policy (one at most; only
local and remote Docker registries have one), kept as Container Registry's are."""

from __future__ import annotations

from functools import partial

from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import as_json, new_operation, once, set_timestamp
from emulator.state.records import CLOUD_REGISTRY_API
from emulator.state.scans import ScanPolicy

ON_POLICY = Target("scan_policy_id", "cloud_scan_policy")
ON_REGISTRY = Target("registry_id", "cloud_registry")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.ScanPolicyService",
    endpoint="cloud-registry",
    methods_declared={
        "Get": Read(gets="scan_policy_id", on=ON_POLICY),
        "GetByRegistry": Read(on=ON_REGISTRY),
        "Create": Mutating(on=ON_REGISTRY),
        "Update": Mutating(on=ON_POLICY),
        "Delete": Mutating(on=ON_POLICY),
    },
)
UPDATABLE = ("name", "description", "scan_lang_packages", "rules", "disabled")  # UpdateScanPolicyRequest's


def encode_scan_policy(policy: ScanPolicy) -> Message:
    message = message_class(f"{CLOUD_REGISTRY}.ScanPolicy")(
        id=policy.id, registry_id=policy.registry_id, name=policy.name, description=policy.description,
        disabled=policy.disabled,
    )  # fmt: skip
    message.scan_policy_options.scan_lang_packages = policy.scan_lang_packages
    json_format.ParseDict(policy.rules, message.rules)
    set_timestamp(message.created_at, policy.created_at_ns)
    return message


def _repeated(request: Message, **named: str) -> dict:
    """What Create/UpdateScanPolicyMetadata repeat of their request (its rules and mask aside)."""
    return {
        **named, "name": request.name, "description": request.description,
        "scan_lang_packages": request.scan_lang_packages, "disabled": request.disabled,
    }  # fmt: skip


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store = context.store
    policy_of = partial(store.scan_policy_in, CLOUD_REGISTRY_API)

    def policy_operation(call: Call, verb: str, policy: ScanPolicy, metadata: dict, answers: bool = True):
        response = (f"{CLOUD_REGISTRY}.ScanPolicy", encode_scan_policy(policy)) if answers else ()
        folder_id = store.registries[policy.registry_id].folder_id
        return new_operation(
            call, f"{verb} scan policy", f"{CLOUD_REGISTRY}.{verb}ScanPolicyMetadata", metadata, folder_id, *response
        )

    def get(request: Message, call: Call) -> Message:
        return encode_scan_policy(policy_of(request.scan_policy_id)[0])

    def get_by_registry(request: Message, call: Call) -> Message:
        return encode_scan_policy(store.scan_policy_of_registry(request.registry_id))

    def create(request: Message, call: Call) -> Message:
        def perform():
            policy = store.add_scan_policy(
                request.registry_id, name=request.name, description=request.description,
                rules=as_json(request.rules), disabled=request.disabled, scan_lang_packages=request.scan_lang_packages,
            )  # fmt: skip
            return policy_operation(call, "Create", policy, _repeated(request, registry_id=request.registry_id))

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = fields_to_update(request, UPDATABLE)

        def perform():
            policy = policy_of(request.scan_policy_id)[0]
            store.update_scan_policy(
                policy.id,
                name=request.name if "name" in fields else None,
                description=request.description if "description" in fields else None,
                rules=as_json(request.rules) if "rules" in fields else None,
                disabled=request.disabled if "disabled" in fields else None,
                scan_lang_packages=request.scan_lang_packages if "scan_lang_packages" in fields else None,
            )
            return policy_operation(call, "Update", policy, _repeated(request, scan_policy_id=policy.id))

        return once(store, call, request, perform)

    def delete(request: Message, call: Call) -> Message:
        def perform():
            policy = store.delete_scan_policy(policy_of(request.scan_policy_id)[0].id)
            return policy_operation(call, "Delete", policy, {"scan_policy_id": policy.id}, answers=False)

        return once(store, call, request, perform)

    return {"Get": get, "GetByRegistry": get_by_registry, "Create": create, "Update": update, "Delete": delete}
