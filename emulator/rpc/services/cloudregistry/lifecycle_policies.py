"""yandex.cloud.cloudregistry.v1.LifecyclePolicyService: a registry's lifecycle policies with Cloud
Registry's own rules (emulator.state.cloud_lifecycle), their state, and dry runs that say which
artifacts a run would delete."""

from __future__ import annotations

import re

from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.api.catalogue import Changing, Mutating, Read, Service, Target
from emulator.api.errors import InvalidArgument
from emulator.api.filters import FilterSpec, parse_filter
from emulator.api.ordering import parse_order_by
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.masks import fields_to_update
from emulator.rpc.services.operations import as_json, new_operation, once, set_timestamp
from emulator.rpc.services.paged import offset_page
from emulator.state.cloud_lifecycle import CloudDryRun, CloudLifecyclePolicy

ON_POLICY = Target("policy_id", "cloud_lifecycle_policy")
ON_DRY_RUN = Target("dry_run_id", "cloud_dry_run")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.LifecyclePolicyService",
    endpoint="cloud-registry",
    methods_declared={
        "Create": Mutating(on=Target("registry_id", "cloud_registry")),
        "Update": Mutating(on=ON_POLICY),
        "Delete": Mutating(on=ON_POLICY),
        "Get": Read(gets="policy_id", on=ON_POLICY),
        "List": Read(lists="policies", on=Target("registry_id", "cloud_registry")),  # paged: checked per page
        "ChangeState": Changing(on=ON_POLICY),
        "DryRun": Mutating(on=ON_POLICY),
        "GetDryRunResult": Read(gets="dry_run_id", on=ON_DRY_RUN),
        "ListDryRunResults": Read(lists="results", on=ON_POLICY),
        "ListDryRunArtifacts": Read(lists="artifacts", on=ON_DRY_RUN),
    },
)
UPDATABLE = ("name", "description", "rules", "state")  # UpdateLifecyclePolicyRequest's
PATH_FILTER = FilterSpec("path", re.compile(r"[^\x00-\x1f\"']{0,1024}"))
VERSION_FILTER = FilterSpec("version", re.compile(r"[^\x00-\x1f\"']{0,1024}"))
DEFAULT_PAGE_SIZE = 100  # the requests' comments give none: as Container Registry's Lists


def _state(message: Message) -> str:
    return message.DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number[message.state].name


def _rule_messages(rules) -> list[Message]:
    rule_type = message_class(f"{CLOUD_REGISTRY}.LifecycleRule")
    return [json_format.ParseDict(rule, rule_type()) for rule in rules]


def encode_policy(policy: CloudLifecyclePolicy) -> Message:
    message_type = message_class(f"{CLOUD_REGISTRY}.LifecyclePolicy")
    message = message_type(
        id=policy.id, name=policy.name, description=policy.description, registry_id=policy.registry_id,
        rules=_rule_messages(policy.rules), created_by=policy.created_by, modified_by=policy.modified_by,
    )  # fmt: skip
    message.state = message.DESCRIPTOR.fields_by_name["state"].enum_type.values_by_name[policy.state].number
    set_timestamp(message.created_at, policy.created_at_ns)
    set_timestamp(message.modified_at, policy.modified_at_ns)
    return message


def encode_dry_run(run: CloudDryRun) -> Message:
    message = message_class(f"{CLOUD_REGISTRY}.DryRunLifecyclePolicyResponse")(
        policy_id=run.policy_id, dry_run_id=run.id, policy_snapshot=_rule_messages(run.policy_snapshot),
        artifacts_to_hard_delete_count=run.count("LIFECYCLE_RULE_TYPE_HARD_DELETE"),
        artifacts_to_soft_delete_count=run.count("LIFECYCLE_RULE_TYPE_SOFT_DELETE"),
    )  # fmt: skip
    set_timestamp(message.run_at, run.run_at_ns)
    return message


def _rules_of(request: Message) -> list[dict]:
    return [as_json(rule) for rule in request.rules]


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens

    def operation(call: Call, verb: str, policy: CloudLifecyclePolicy, answers: bool = True):
        response = (f"{CLOUD_REGISTRY}.LifecyclePolicy", encode_policy(policy)) if answers else ()
        return new_operation(
            call, f"{verb} lifecycle policy", f"{CLOUD_REGISTRY}.{verb}LifecyclePolicyMetadata",
            {"policy_id": policy.id}, store.registries[policy.registry_id].folder_id, *response,
        )  # fmt: skip

    def create(request: Message, call: Call) -> Message:
        def perform():
            policy = store.add_cloud_policy(
                request.registry_id, name=request.name, description=request.description, rules=_rules_of(request),
                state=_state(request) if request.state else "DISABLED", created_by=call.principal.subject,
            )  # fmt: skip
            return operation(call, "Create", policy)

        return once(store, call, request, perform)

    def update(request: Message, call: Call) -> Message:
        fields = fields_to_update(request, UPDATABLE)
        if "state" in fields and not request.state:
            raise InvalidArgument.field(
                "state", "is required when the mask names it or is empty (then every field is set): DISABLED or ENABLED"
            )

        def perform():
            policy = store.update_cloud_policy(
                request.policy_id,
                modified_by=call.principal.subject,
                name=request.name if "name" in fields else None,
                description=request.description if "description" in fields else None,
                rules=_rules_of(request) if "rules" in fields else None,
                state=_state(request) if "state" in fields else None,
            )
            return operation(call, "Update", policy)

        return once(store, call, request, perform)

    def delete(request: Message, call: Call) -> Message:
        def perform():
            return operation(call, "Delete", store.delete_cloud_policy(request.policy_id), answers=False)

        return once(store, call, request, perform)

    def get(request: Message, call: Call) -> Message:
        return encode_policy(store.get_cloud_policy(request.policy_id))

    def list_policies(request: Message, call: Call) -> Message:
        if not request.registry_id:
            raise InvalidArgument.field("registry_id", "is required")

        def fetch() -> list[CloudLifecyclePolicy]:
            with store.atomic():
                call.authorize_target(request)
                return store.cloud_policies_of(request.registry_id)

        found, token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=token)
        response.policies.extend(encode_policy(policy) for policy in found)
        return response

    def change_state(request: Message, call: Call) -> Message:
        with store.atomic():
            call.authorize_target(request)
            store.update_cloud_policy(request.policy_id, modified_by=call.principal.subject, state=_state(request))
        return message_class("google.protobuf.Empty")()

    def dry_run(request: Message, call: Call) -> Message:
        def perform():
            run = store.cloud_dry_run(request.policy_id)
            policy = store.get_cloud_policy(run.policy_id)
            return new_operation(
                call, "Dry run lifecycle policy", f"{CLOUD_REGISTRY}.DryRunLifecyclePolicyMetadata",
                {"policy_id": policy.id}, store.registries[policy.registry_id].folder_id,
                f"{CLOUD_REGISTRY}.DryRunLifecyclePolicyResponse", encode_dry_run(run),
            )  # fmt: skip

        return once(store, call, request, perform)

    def get_dry_run_result(request: Message, call: Call) -> Message:
        return encode_dry_run(store.get_cloud_dry_run(request.dry_run_id))

    def list_dry_run_results(request: Message, call: Call) -> Message:
        """A policy's results run in [run_after, run_before), by run_at (newest first unless asked)."""
        order, descending = parse_order_by(request.order_by or "run_at desc", ("id", "run_at"))
        after = request.run_after.ToNanoseconds() if request.HasField("run_after") else None
        before = request.run_before.ToNanoseconds() if request.HasField("run_before") else None

        def fetch() -> list[CloudDryRun]:
            with store.atomic():
                call.authorize_target(request)
                runs = store.cloud_dry_runs_of(request.policy_id)
            runs = [
                r for r in runs if (after is None or r.run_at_ns >= after) and (before is None or r.run_at_ns < before)
            ]
            key = (lambda r: r.id) if order == "id" else (lambda r: (r.run_at_ns, r.id))
            return sorted(runs, key=key, reverse=descending)

        found, token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=token)
        response.results.extend(encode_dry_run(run) for run in found)
        return response

    def list_dry_run_artifacts(request: Message, call: Call) -> Message:
        """What a dry run would delete, filtered by path or version (= or !=), by path."""
        violations, tests = [], []
        for field, spec, attribute in (
            ("path_filter", PATH_FILTER, "path"),
            ("version_filter", VERSION_FILTER, "version"),
        ):
            try:
                parsed = parse_filter(getattr(request, field), spec, field)
            except InvalidArgument as error:
                violations.extend(error.violations)
                continue
            if parsed is not None:
                tests.append(lambda a, name=attribute, f=parsed: (getattr(a, name) in f.names) != f.negated)
        try:
            _, descending = parse_order_by(request.order_by or "path", ("path",))
        except InvalidArgument as error:
            violations.extend(error.violations)
        if violations:
            raise InvalidArgument(violations)

        def fetch() -> list:
            with store.atomic():
                call.authorize_target(request)
                affected = store.get_cloud_dry_run(request.dry_run_id).affected
            return sorted(
                (a for a in affected if all(test(a) for test in tests)), key=lambda a: a.path, reverse=descending
            )

        found, token = offset_page(tokens, call.method.full, request, fetch, DEFAULT_PAGE_SIZE)
        response = message_class(call.method.response_type)(next_page_token=token)
        for affected in found:
            item = response.artifacts.add(
                path=affected.path, version=affected.version, artifact_id=affected.artifact_id
            )
            item.affected_by.rule_type = (
                item.affected_by.DESCRIPTOR.fields_by_name["rule_type"]
                .enum_type.values_by_name[affected.rule_type]
                .number
            )
            item.affected_by.rule_index = affected.rule_index
        return response

    return {
        "Create": create,
        "Update": update,
        "Delete": delete,
        "Get": get,
        "List": list_policies,
        "ChangeState": change_state,
        "DryRun": dry_run,
        "GetDryRunResult": get_dry_run_result,
        "ListDryRunResults": list_dry_run_results,
        "ListDryRunArtifacts": list_dry_run_artifacts,
    }
