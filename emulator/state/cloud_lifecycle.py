"""Cloud Registry's lifecycle policies: rules over a registry's artifacts, and dry runs that say what
a run would delete. A part of the Store.

The rules are Cloud Registry's own [E: concepts/lifecycle-policy.md]: KEEP rules (``keep_by_age``,
``keep_by_version``) protect what they match, and win over the DELETE rules (``older_than_days``,
``version_condition``, ``always``; HARD or SOFT); counts of versions are per package; a rule applies
to the artifacts that match all of its filters (``path_prefix``, ``version_regexp``, the Docker
``tag_status``). A rule is kept as its message in protobuf's JSON mapping (the API's annotations
check it), and read here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emulator.api.errors import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted, found
from emulator.api.ids import CLOUD_REGISTRY_PREFIX
from emulator.api.values import ValueProblem, check_timestamp
from emulator.state.artifacts import ARTIFACT, Artifact
from emulator.state.lifecycle import LifecycleRun
from emulator.state.operation_log import Effect
from emulator.state.records import CLOUD_REGISTRY_API, Action, Operation

DAY_NS = 86_400 * 1_000_000_000
LIFECYCLE_STATES = ("DISABLED", "ENABLED")
MAX_POLICIES = 10  # per registry [E: "Maximum number of lifecycle policies per registry: 10"]
MAX_RULES = 10  # per policy [E: "Maximum number of rules per lifecycle policy: 10"]
MAX_DAYS = 100 * 365  # a rule's days: the emulator's bound
MAX_DRY_RUNS = 1_000  # results kept (the oldest by run_at go first): the emulator's bound
MAX_AFFECTED = 1_000_000  # artifacts all kept results name together: the emulator's bound
HARD, SOFT = "LIFECYCLE_RULE_TYPE_HARD_DELETE", "LIFECYCLE_RULE_TYPE_SOFT_DELETE"
DELETE_ARTIFACT_METADATA = "yandex.cloud.cloudregistry.v1.DeleteArtifactMetadata"


@dataclass(slots=True)
class CloudLifecyclePolicy:
    id: str
    registry_id: str
    name: str
    description: str
    rules: tuple[dict[str, Any], ...]  # LifecycleRule messages in protobuf's JSON mapping
    state: str  # DISABLED or ENABLED
    created_at_ns: int
    modified_at_ns: int
    created_by: str = ""
    modified_by: str = ""


@dataclass(frozen=True, slots=True)
class AffectedArtifact:
    path: str  # the full path, "/library/ubuntu/latest"
    artifact_id: str
    rule_type: str  # HARD or SOFT
    rule_index: int  # in the dry run's policy_snapshot

    @property
    def version(self) -> str:
        """ "The part of the path after the last "/"" (AffectedArtifact.version's comment)."""
        return self.path.rpartition("/")[2]


@dataclass(slots=True)
class CloudDryRun:
    id: str
    policy_id: str
    run_at_ns: int
    policy_snapshot: tuple[dict[str, Any], ...]
    affected: tuple[AffectedArtifact, ...]

    def count(self, rule_type: str) -> int:
        return sum(1 for artifact in self.affected if artifact.rule_type == rule_type)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def check_rules(rules: Iterable[dict[str, Any]], field: str = "rules") -> tuple[dict[str, Any], ...]:
    """The rules, each with one kind, a delete rule with its condition and type, days and counts
    in range, and a version_regexp that compiles; INVALID_ARGUMENT naming the rule otherwise."""
    rules = tuple(rules)
    if len(rules) > MAX_RULES:
        raise InvalidArgument.field(field, f"at most {MAX_RULES} rules a policy, got {len(rules)}")
    for position, rule in enumerate(rules):
        where = f"{field}[{position}]"
        kinds = [kind for kind in ("keep_by_age", "keep_by_version", "delete") if kind in rule]
        if len(kinds) != 1:
            raise InvalidArgument.field(where, "needs one of keep_by_age, keep_by_version or delete")
        numbers = {
            "keep_by_age": ("younger_than_days",),
            "keep_by_version": ("keep_versions_count",),
            "delete": ("older_than_days", "cooldown_period_days"),
        }[kinds[0]]
        body = rule[kinds[0]]
        for name in numbers:
            value = int(body.get(name, 0))
            if not 0 <= value <= MAX_DAYS:
                raise InvalidArgument.field(f"{where}.{kinds[0]}.{name}", f"must be 0 to {MAX_DAYS}, got {value}")
        if kinds[0] == "delete":
            if not any(condition in body for condition in ("older_than_days", "version_condition", "always")):
                raise InvalidArgument.field(
                    f"{where}.delete", "needs a condition: older_than_days, version_condition or always"
                )
            if body.get("type", "DELETE_LIFECYCLE_RULE_KIND_UNSPECIFIED") == "DELETE_LIFECYCLE_RULE_KIND_UNSPECIFIED":
                raise InvalidArgument.field(f"{where}.delete.type", "is required: HARD_DELETE or SOFT_DELETE")
            count = int(body.get("version_condition", {}).get("versions_count_greater_than", 0))
            if not 0 <= count <= MAX_DAYS:
                raise InvalidArgument.field(
                    f"{where}.delete.version_condition", f"must be 0 to {MAX_DAYS}, got {count}"
                )
        if kinds[0] != "delete" and int(body.get(numbers[0], 0)) <= 0:
            raise InvalidArgument.field(f"{where}.{kinds[0]}.{numbers[0]}", "must be > 0")
        if rule.get("version_regexp"):
            try:
                _compiled(rule["version_regexp"])
            except re.error as error:
                raise InvalidArgument.field(
                    f"{where}.version_regexp", f"is not a regular expression: {error}"
                ) from None
    return rules


def _applies(rule: dict[str, Any], artifact: Artifact) -> bool:
    """Whether every filter of the rule matches the artifact (a version of a package)."""
    full = "/" + artifact.full_path
    prefixes = [p.strip() for p in rule.get("path_prefix", "").split(",") if p.strip()]
    if prefixes and not any(full.startswith("/" + prefix.strip("/")) for prefix in prefixes):
        return False
    if rule.get("version_regexp") and not _compiled(rule["version_regexp"]).fullmatch(artifact.name):
        return False
    if "maven_filters" in rule:  # a Docker registry's artifacts are no Maven versions
        return False
    status = rule.get("docker_filters", {}).get("tag_status", "TAG_STATUS_ANY")
    untagged = artifact.name.startswith("sha256:")
    return not ((status == "TAGGED" and untagged) or (status == "UNTAGGED" and not untagged))


def affected_artifacts(
    packages: Iterable[list[Artifact]], rules: tuple[dict[str, Any], ...], now_ns: int
) -> list[AffectedArtifact]:
    """What the rules would delete of these packages' versions (each list one package's), by path:
    what a KEEP rule matches stays; of the rest, what a DELETE rule selects goes, by the first such
    rule (a HARD one before SOFT ones)."""
    affected = []
    for versions in packages:
        newest_first = sorted(versions, key=lambda a: (-a.created_at_ns, a.name))
        kept: set[str] = set()
        chosen: dict[str, tuple[int, int]] = {}  # artifact id -> (0 HARD, 1 SOFT; rule index): the least wins
        for index, rule in enumerate(rules):
            matching = [artifact for artifact in newest_first if _applies(rule, artifact)]
            if "keep_by_age" in rule:
                days = int(rule["keep_by_age"]["younger_than_days"])
                kept.update(a.id for a in matching if a.created_at_ns > now_ns - days * DAY_NS)
            elif "keep_by_version" in rule:
                kept.update(a.id for a in matching[: int(rule["keep_by_version"]["keep_versions_count"])])
            else:
                body = rule["delete"]
                if "older_than_days" in body:
                    limit = now_ns - int(body["older_than_days"]) * DAY_NS
                    selected = [a for a in matching if a.created_at_ns <= limit]
                elif "version_condition" in body:
                    selected = matching[int(body["version_condition"].get("versions_count_greater_than", 0)) :]
                else:
                    selected = matching if body.get("always") else []
                rank = (0 if body["type"] == "HARD_DELETE" else 1, index)
                for artifact in selected:
                    chosen[artifact.id] = min(chosen.get(artifact.id, rank), rank)
        for artifact in newest_first:
            if artifact.id in chosen and artifact.id not in kept:
                soft, index = chosen[artifact.id]
                affected.append(AffectedArtifact("/" + artifact.full_path, artifact.id, SOFT if soft else HARD, index))
    return sorted(affected, key=lambda a: a.path)


class CloudLifecycleTable:
    """Cloud Registry's policies by id (and by registry), and their dry runs."""

    def _open_table(self) -> None:
        # Artifacts a SOFT_DELETE rule marked: artifact id -> when its cooldown ends (then a run
        # deletes it); shown DELETED meanwhile. At most one entry per artifact there is.
        self.soft_deleted: dict[str, int] = {}
        self.cloud_lifecycle_policies: dict[str, CloudLifecyclePolicy] = {}
        self._cloud_policies_of: dict[str, dict[str, None]] = {}  # registry id -> its policies' ids
        self.cloud_dry_runs: dict[str, CloudDryRun] = {}  # in run_at order (results are made as time goes)
        self._cloud_affected = 0

    def _table_contents(self) -> tuple:
        return self.cloud_lifecycle_policies, self._cloud_policies_of, self.cloud_dry_runs, self.soft_deleted

    def _table_effects(self) -> dict[Action, Effect]:
        return {}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {
            "cloud_lifecycle_policy": lambda policy_id: self._registry_folder(self.get_cloud_policy(policy_id)),
            "cloud_dry_run": lambda run_id: self._registry_folder(
                self.get_cloud_policy(self.get_cloud_dry_run(run_id).policy_id)
            ),
        }

    def _registry_folder(self, policy: CloudLifecyclePolicy) -> str:
        return self.registries[policy.registry_id].folder_id

    def add_cloud_policy(
        self,
        registry_id: str,
        *,
        id: str | None = None,
        name: str = "",
        description: str = "",
        rules: Iterable[dict[str, Any]] = (),
        state: str = "DISABLED",
        created_by: str = "",
        created_at_ns: int | None = None,
        modified_at_ns: int | None = None,
    ) -> CloudLifecyclePolicy:
        """A policy of a Cloud Registry registry: at most 10 a registry, one of them ENABLED."""
        rules = check_rules(rules)
        for moment, field in ((created_at_ns, "created_at"), (modified_at_ns, "modified_at")):
            if moment is not None:
                check_timestamp(moment, field)
        if state not in LIFECYCLE_STATES:
            raise ValueProblem("state", f"must be one of {', '.join(LIFECYCLE_STATES)}", state)
        with self._lock:
            registry = self.registry_in(CLOUD_REGISTRY_API, registry_id)
            held = self._cloud_policies_of.get(registry.id, {})
            if len(held) >= MAX_POLICIES:
                raise ResourceExhausted(f"Registry {registry.id} has {MAX_POLICIES} lifecycle policies, the limit")
            if state == "ENABLED":
                self._check_none_enabled(registry.id, None)
            policy_id = self._new_or_given_id(id, self.cloud_lifecycle_policies, "id", prefix=CLOUD_REGISTRY_PREFIX)
            now = self.clock.now_ns()
            created = now if created_at_ns is None else created_at_ns
            policy = CloudLifecyclePolicy(
                policy_id, registry.id, name, description, rules, state, created,
                created if modified_at_ns is None else modified_at_ns, created_by, created_by,
            )  # fmt: skip
            self.cloud_lifecycle_policies[policy_id] = policy
            self._cloud_policies_of.setdefault(registry.id, {})[policy_id] = None
            return policy

    def _check_none_enabled(self, registry_id: str, but: str | None) -> None:
        for policy_id in self._cloud_policies_of.get(registry_id, {}):
            if policy_id != but and self.cloud_lifecycle_policies[policy_id].state == "ENABLED":
                raise FailedPrecondition(
                    f"Registry {registry_id} has an enabled lifecycle policy, {policy_id}: one may be enabled "
                    "at a time; disable it first"
                )

    def get_cloud_policy(self, policy_id: str) -> CloudLifecyclePolicy:
        with self._lock:
            return found(self.cloud_lifecycle_policies.get(policy_id), "Lifecycle policy", policy_id)

    def update_cloud_policy(
        self,
        policy_id: str,
        *,
        modified_by: str = "",
        name: str | None = None,
        description: str | None = None,
        rules: Iterable[dict[str, Any]] | None = None,
        state: str | None = None,
    ) -> CloudLifecyclePolicy:
        """Change what is given (None: unchanged; new rules replace all); enabling one while another
        of its registry is enabled is FAILED_PRECONDITION."""
        rules = check_rules(rules) if rules is not None else None
        with self._lock:
            policy = self.get_cloud_policy(policy_id)
            if state == "ENABLED" and policy.state != "ENABLED":
                self._check_none_enabled(policy.registry_id, policy.id)
            for field, value in (("name", name), ("description", description), ("rules", rules), ("state", state)):
                if value is not None:
                    setattr(policy, field, value)
            policy.modified_at_ns, policy.modified_by = self.clock.now_ns(), modified_by
            return policy

    def delete_cloud_policy(self, policy_id: str) -> CloudLifecyclePolicy:
        """A policy goes with its dry runs."""
        with self._lock:
            policy = self.get_cloud_policy(policy_id)
            for run in [run for run in self.cloud_dry_runs.values() if run.policy_id == policy.id]:
                self._drop_cloud_dry_run(run)
            del self.cloud_lifecycle_policies[policy.id]
            held = self._cloud_policies_of[policy.registry_id]
            del held[policy.id]
            if not held:
                del self._cloud_policies_of[policy.registry_id]
            return policy

    def cloud_policies_of(self, registry_id: str) -> list[CloudLifecyclePolicy]:
        with self._lock:
            registry = self.registry_in(CLOUD_REGISTRY_API, registry_id)
            return [self.cloud_lifecycle_policies[i] for i in sorted(self._cloud_policies_of.get(registry.id, {}))]

    def _drop_registry_cloud_policies(self, registry_id: str) -> None:
        for policy_id in list(self._cloud_policies_of.get(registry_id, {})):
            self.delete_cloud_policy(policy_id)

    # ---- dry runs ------------------------------------------------------------------------

    def cloud_dry_run(self, policy_id: str, *, id: str | None = None) -> CloudDryRun:
        """What the policy's rules would delete of its registry's artifacts now."""
        with self._lock:
            policy = self.get_cloud_policy(policy_id)
            packages = [
                [node for node in self._artifacts_of(repository) if node.kind == ARTIFACT]
                for repository in self._repositories_of(policy.registry_id)
            ]
            now = self.clock.now_ns()
            run_id = self._new_or_given_id(id, self.cloud_dry_runs, "id", prefix=CLOUD_REGISTRY_PREFIX)
            run = CloudDryRun(
                run_id, policy.id, now, policy.rules, tuple(affected_artifacts(packages, policy.rules, now))
            )
            return self._keep_cloud_dry_run(run)

    def add_cloud_dry_run(self, run: CloudDryRun) -> CloudDryRun:
        """Keep a result as it is (a seed's): never beyond the results kept (a load evicts nothing)."""
        with self._lock:
            self.get_cloud_policy(run.policy_id)
            self._new_or_given_id(run.id, self.cloud_dry_runs, "id")
            check_timestamp(run.run_at_ns, "run_at")
            if len(self.cloud_dry_runs) >= MAX_DRY_RUNS or self._cloud_affected + len(run.affected) > MAX_AFFECTED:
                raise ValueProblem(
                    "id", f"at most {MAX_DRY_RUNS} dry-run results ({MAX_AFFECTED} artifacts) are kept", run.id
                )
            check_rules(run.policy_snapshot, "policy_snapshot")
            return self._keep_cloud_dry_run(run, evict=False)

    def _keep_cloud_dry_run(self, run: CloudDryRun, *, evict: bool = True) -> CloudDryRun:
        self.cloud_dry_runs[run.id] = run
        self._cloud_affected += len(run.affected)
        while evict and (len(self.cloud_dry_runs) > MAX_DRY_RUNS or self._cloud_affected > MAX_AFFECTED):
            oldest = min(self.cloud_dry_runs.values(), key=lambda r: (r.run_at_ns, r.id))
            if oldest is run:
                break
            self._drop_cloud_dry_run(oldest)
        return run

    def _drop_cloud_dry_run(self, run: CloudDryRun) -> None:
        del self.cloud_dry_runs[run.id]
        self._cloud_affected -= len(run.affected)

    def forget_cloud_dry_run(self, run_id: str) -> None:
        with self._lock:
            run = self.cloud_dry_runs.get(run_id)
            if run is not None:
                self._drop_cloud_dry_run(run)

    def get_cloud_dry_run(self, run_id: str) -> CloudDryRun:
        with self._lock:
            return found(self.cloud_dry_runs.get(run_id), "Dry run result", run_id)

    def cloud_dry_runs_of(self, policy_id: str) -> list[CloudDryRun]:
        with self._lock:
            self.get_cloud_policy(policy_id)
            return [run for run in self.cloud_dry_runs.values() if run.policy_id == policy_id]

    # ---- runs ----------------------------------------------------------------------------

    def run_cloud_policies(self) -> list[LifecycleRun]:
        """Run every ENABLED policy, oldest first (what the lifecycle schedule runs)."""
        with self._lock:
            enabled = sorted(
                (p for p in self.cloud_lifecycle_policies.values() if p.state == "ENABLED"),
                key=lambda p: (p.created_at_ns, p.id),
            )
            return [self._run_cloud(policy) for policy in enabled]

    def run_cloud_policy(self, policy_id: str) -> LifecycleRun:
        """Run one ENABLED policy now (FAILED_PRECONDITION for a DISABLED one: DryRun it)."""
        with self._lock:
            policy = self.get_cloud_policy(policy_id)
            if policy.state != "ENABLED":
                raise FailedPrecondition(f"Lifecycle policy {policy.id} is DISABLED: only an ENABLED policy runs")
            return self._run_cloud(policy)

    def _run_cloud(self, policy: CloudLifecyclePolicy) -> LifecycleRun:
        """What the rules select now: HARD ones deleted, SOFT ones marked DELETED until their
        cooldown ends (0 days: deleted now); marked artifacts of the registry whose cooldown has
        ended are deleted. Each deletion is one done DeleteArtifact operation; an artifact a pending
        operation or an image list outside holds is kept, and said why."""
        now = self.clock.now_ns()
        packages = [
            [node for node in self._artifacts_of(repository) if node.kind == ARTIFACT]
            for repository in self._repositories_of(policy.registry_id)
        ]
        doomed: dict[str, str] = {}  # artifact id -> why (HARD, SOFT or a cooldown that ended)
        marked = []
        for artifact in affected_artifacts(packages, policy.rules, now):
            cooldown = int(policy.rules[artifact.rule_index]["delete"].get("cooldown_period_days", 0)) * DAY_NS
            if artifact.rule_type == SOFT and cooldown and artifact.artifact_id not in self.soft_deleted:
                self.soft_deleted[artifact.artifact_id] = now + cooldown
                marked.append(artifact.artifact_id)
            elif artifact.rule_type == HARD or not cooldown:
                doomed[artifact.artifact_id] = artifact.rule_type
        for artifact_id, due in list(self.soft_deleted.items()):
            try:
                node = self.get_artifact(artifact_id)
            except NotFound:  # gone another way
                del self.soft_deleted[artifact_id]
                continue
            if node.registry_id == policy.registry_id and due <= now:
                doomed[artifact_id] = SOFT
        deleted, operations, kept = [], [], {}
        folder_id = self.registries[policy.registry_id].folder_id
        for artifact_id in sorted(doomed):
            try:
                node = self.get_artifact(artifact_id)  # a tag deleted before may have taken this image
            except NotFound:
                self.soft_deleted.pop(artifact_id, None)
                continue
            holder = self.log.holding("Artifact", artifact_id) or self.log.holding("Image", node.image.id)
            if holder is not None:
                kept[artifact_id] = f"a pending operation, {holder}, holds it"
                continue
            try:
                self.delete_artifact(artifact_id)
            except FailedPrecondition as refusal:
                kept[artifact_id] = refusal.message
                continue
            self.soft_deleted.pop(artifact_id, None)
            deleted.append(artifact_id)
            operation = Operation(
                id=self.new_operation_id(), description="Delete artifact", created_at_ns=now,
                created_by=f"lifecycle-policy:{policy.id}", modified_at_ns=now, done=True,
                metadata_type=DELETE_ARTIFACT_METADATA, metadata={"artifact_id": artifact_id},
                response_type="google.protobuf.Empty", folder_id=folder_id,
            )  # fmt: skip
            operations.append(self.log.add(operation).id)
        return LifecycleRun(policy.id, tuple(deleted), tuple(operations), tuple(sorted(kept.items())), tuple(marked))
