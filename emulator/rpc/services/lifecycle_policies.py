"""yandex.cloud.containerregistry.v1.LifecyclePolicyService: lifecycle policies, their dry runs and
the images a dry run found (what the rules delete: emulator.state.lifecycle)."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service
from emulator.api.errors import InvalidArgument
from emulator.api.filters import REGISTRY_NAME_FILTER, REPOSITORY_NAME_FILTER
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.images import encode_image
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import new_operation, once, set_timestamp
from emulator.rpc.services.paged import ListSpec, list_handler
from emulator.state.lifecycle import (
    AFFECTED_IMAGE_ORDERS,
    DRY_RUN_RESULT_ORDERS,
    POLICY_ORDERS,
    DryRunResult,
    LifecyclePolicy,
)
from emulator.state.seed import lifecycle_rule_of

# registry_id or repository_id (exactly one: an annotation); the filter names a policy.
LIST = ListSpec(
    scopes=(("registry_id", "registry"), ("repository_id", "repository_id")),
    filter=REGISTRY_NAME_FILTER,
    orders=POLICY_ORDERS,
)
# The filter names the policy, as the request's documentation says: all of its results, or none.
LIST_DRY_RUN_RESULTS = ListSpec(
    scopes=(("lifecycle_policy_id", "lifecycle_policy"),),
    filter=REGISTRY_NAME_FILTER,
    orders=DRY_RUN_RESULT_ORDERS,
)
# The filter and the orders name the images' fields (the documentation's "LifecyclePolicy.name" and
# "created_at" could only mean them: see docs/container-registry.md, "Lifecycle policies").
LIST_AFFECTED_IMAGES = ListSpec(
    scopes=(("dry_run_lifecycle_policy_result_id", "dry_run_lifecycle_policy_result"),),
    filter=REPOSITORY_NAME_FILTER,
    orders=AFFECTED_IMAGE_ORDERS,
)
SERVICE = Service(
    f"{CONTAINER_REGISTRY}.LifecyclePolicyService",
    endpoint="container-registry",
    methods_declared={
        "Get": Read(gets="lifecycle_policy_id"),
        "List": Read(lists="lifecycle_policies", spec=LIST),
        "Create": Mutating(on="repository_id"),
        "Update": Mutating(on="lifecycle_policy_id"),
        "Delete": Mutating(on="lifecycle_policy_id"),
        "DryRun": Mutating(on="lifecycle_policy_id"),
        "GetDryRunResult": Read(gets="dry_run_lifecycle_policy_result_id"),
        "ListDryRunResults": Read(lists="dry_run_lifecycle_policy_results", spec=LIST_DRY_RUN_RESULTS),
        "ListDryRunResultAffectedImages": Read(lists="affected_images", spec=LIST_AFFECTED_IMAGES),
    },
)
UPDATABLE = ("name", "description", "status", "rules")  # what UpdateLifecyclePolicyRequest.update_mask may name
NS = 1_000_000_000


def encode_policy(policy: LifecyclePolicy) -> Message:
    message_type = message_class(f"{CONTAINER_REGISTRY}.LifecyclePolicy")
    message = message_type(
        id=policy.id,
        name=policy.name,
        repository_id=policy.repository_id,
        description=policy.description,
        status=message_type.Status.Value(policy.status),
    )
    set_timestamp(message.created_at, policy.created_at_ns)
    for rule in policy.rules:
        encoded = message.rules.add(
            description=rule.description,
            tag_regexp=rule.tag_regexp,
            untagged=rule.untagged,
            retained_top=rule.retained_top,
        )
        if rule.expire_period_ns:
            encoded.expire_period.seconds, encoded.expire_period.nanos = divmod(rule.expire_period_ns, NS)
    return message


def encode_dry_run_result(result: DryRunResult) -> Message:
    message = message_class(f"{CONTAINER_REGISTRY}.DryRunLifecyclePolicyResult")(
        dry_run_lifecycle_policy_result_id=result.id,
        lifecycle_policy_id=result.lifecycle_policy_id,
        affected_images_count=result.affected_images_count,
    )
    set_timestamp(message.run_at, result.run_at_ns)
    return message


def _status_name(request: Message) -> str:
    return message_class(f"{CONTAINER_REGISTRY}.LifecyclePolicy").Status.Name(request.status)


def _fields_to_update(request: Message) -> set[str]:
    """The fields the Update changes. The status is required only when they include it: Terraform's
    provider sends an Update without it (and a mask without it)."""
    fields = fields_to_update(request, UPDATABLE)
    if "status" in fields and not request.status:
        raise InvalidArgument.field(
            "status",
            "is required when update_mask names it or is empty (then every field is set), got STATUS_UNSPECIFIED",
        )
    return fields


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens
    metadata = f"{CONTAINER_REGISTRY}.{{}}LifecyclePolicyMetadata"
    policy_type = f"{CONTAINER_REGISTRY}.LifecyclePolicy"

    def policy_operation(call: Call, verb: str, policy: LifecyclePolicy, answers: bool = True) -> object:
        response = (policy_type, encode_policy(policy)) if answers else ()
        folder_id = store.folder_of_target("repository", policy.repository_id)
        return new_operation(
            call, f"{verb} lifecycle policy", metadata.format(verb), {"lifecycle_policy_id": policy.id}, folder_id,
            *response,
        )  # fmt: skip

    def get(request: Message, call: Call) -> Message:
        return encode_policy(store.get_lifecycle_policy(request.lifecycle_policy_id))

    def create(request: Message, call: Call) -> Message:
        rules = [lifecycle_rule_of(rule) for rule in request.rules]

        def perform():
            policy = store.add_lifecycle_policy(
                request.repository_id,
                name=request.name,
                description=request.description,
                status=_status_name(request),
                rules=rules,
            )
            return policy_operation(call, "Create", policy)

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = _fields_to_update(request)
        rules = [lifecycle_rule_of(rule) for rule in request.rules]

        def perform():
            policy = store.update_lifecycle_policy(
                request.lifecycle_policy_id,
                name=request.name if "name" in fields else None,
                description=request.description if "description" in fields else None,
                status=_status_name(request) if "status" in fields else None,
                rules=rules if "rules" in fields else None,
            )
            return policy_operation(call, "Update", policy)

        return once(store, call, request, perform)

    def delete(request: Message, call: Call) -> Message:
        def perform():
            return policy_operation(call, "Delete", store.delete_lifecycle_policy(request.lifecycle_policy_id), False)

        return once(store, call, request, perform)

    def dry_run(request: Message, call: Call) -> Message:
        def perform():
            result = store.dry_run_lifecycle_policy(request.lifecycle_policy_id)
            return new_operation(
                call,
                "Dry run lifecycle policy",
                f"{CONTAINER_REGISTRY}.DryRunLifecyclePolicyMetadata",
                {"dry_run_lifecycle_policy_result_id": result.id, "lifecycle_policy_id": result.lifecycle_policy_id},
                store.folder_of_target("lifecycle_policy", result.lifecycle_policy_id),
                f"{CONTAINER_REGISTRY}.DryRunLifecyclePolicyResult",
                encode_dry_run_result(result),
            )

        return once(store, call, request, perform)

    def get_dry_run_result(request: Message, call: Call) -> Message:
        return encode_dry_run_result(store.get_dry_run_result(request.dry_run_lifecycle_policy_result_id))

    return {
        "Get": get,
        "List": list_handler(store, tokens, store.list_lifecycle_policies, encode_policy),
        "Create": create,
        "Update": update,
        "Delete": delete,
        "DryRun": dry_run,
        "GetDryRunResult": get_dry_run_result,
        "ListDryRunResults": list_handler(store, tokens, store.list_dry_run_results, encode_dry_run_result),
        "ListDryRunResultAffectedImages": list_handler(store, tokens, store.list_affected_images, encode_image),
    }
