"""Lifecycle policies of Container Registry repositories: their rules, dry runs and runs. A part of
the Store.

What a rule deletes (docs/container-registry.md's decisions say what each point rests on): images are first
filtered by tag (``tag_regexp`` matching a whole tag, or ``untagged``), then checked against the
delete conditions: the newest ``retained_top`` of the filtered images are kept, and of the rest
those older than ``expire_period`` (every one, without it) are what the rule requires deleted. An
image several rules filter is deleted only if every one of them requires it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.api.errors import FailedPrecondition, found, shown
from emulator.api.values import ValueProblem, check_timestamp
from emulator.state.listing import (
    ID_ORDER,
    Cursor,
    Field,
    NameSerials,
    Scope,
    ScopedIndex,
    by_name_then_id,
    by_number_then_id,
)
from emulator.state.operation_log import Effect
from emulator.state.records import Action, Image, Operation, Repository, detached

DAY_NS = 86_400 * 1_000_000_000
MAX_DURATION_NS = 315_576_000_000 * 1_000_000_000  # google.protobuf.Duration's range: about 10,000 years
POLICY_STATUSES = ("ACTIVE", "DISABLED")
MAX_SCHEDULE_NS = 100 * 365 * DAY_NS  # a schedule's period: the emulator's bound
MAX_RULES = 100  # per policy: the emulator's bound (production's is not public)
MAX_DRY_RUN_IMAGES = 50_000  # documented: a dry run checks at most 50,000 images of a repository
# Dry-run results kept, the oldest forgotten first: at most this many, holding at most this many
# affected images together (each one is a copy of the image as it was when the dry run ran).
MAX_DRY_RUN_RESULTS = 1_000
MAX_DRY_RUN_AFFECTED = 1_000_000
POLICY_ORDERS = ("id", "name", "created_at", "status")
DRY_RUN_RESULT_ORDERS = ("id", "run_at", "affected_images_count")
AFFECTED_IMAGE_ORDERS = ("id", "name", "created_at")
# What a policy run records for each image it deletes: ImageService.Delete's operation.
DELETE_IMAGE_METADATA = "yandex.cloud.containerregistry.v1.DeleteImageMetadata"


@dataclass(frozen=True, slots=True)
class LifecycleRule:
    """One rule: its tag filter (``tag_regexp``, ``untagged``) and delete conditions
    (``expire_period_ns``, 0 for none; ``retained_top``)."""

    description: str = ""
    expire_period_ns: int = 0
    tag_regexp: str = ""
    untagged: bool = False
    retained_top: int = 0

    def check(self, field: str) -> None:
        """ValueProblem naming ``field`` for a rule production's documentation does not allow."""
        if not isinstance(self.description, str) or len(self.description) > 256:
            raise ValueProblem(f"{field}.description", "must be a string of at most 256 characters", self.description)
        if not isinstance(self.tag_regexp, str) or len(self.tag_regexp) > 256:
            raise ValueProblem(f"{field}.tag_regexp", "must be a string of at most 256 characters", self.tag_regexp)
        if not isinstance(self.untagged, bool):
            raise ValueProblem(f"{field}.untagged", "must be true or false", self.untagged)
        if type(self.retained_top) is not int or not 0 <= self.retained_top < 2**63:
            raise ValueProblem(f"{field}.retained_top", "must be an integer >= 0", self.retained_top)
        period = self.expire_period_ns
        if type(period) is not int or period < 0 or period % DAY_NS:
            raise ValueProblem(f"{field}.expire_period", "must be a multiple of 24 hours", _period_text(period))
        if period > MAX_DURATION_NS:
            raise ValueProblem(
                f"{field}.expire_period", "must be at most 10,000 years (a Duration's range)", _period_text(period)
            )
        if self.tag_regexp:
            try:
                re.compile(self.tag_regexp)
            except re.error as problem:
                raise ValueProblem(
                    f"{field}.tag_regexp", f"is not a regular expression ({problem})", shown(self.tag_regexp)
                ) from None
        if not (self.tag_regexp or self.untagged):
            raise ValueProblem(field, "needs a tag filter: tag_regexp or untagged", "neither")
        if not (period or self.retained_top):
            raise ValueProblem(field, "needs a delete condition: expire_period or retained_top", "neither")

    def filters(self, image: Image) -> bool:
        """Whether the rule's tag filter takes the image: a tag the regexp matches whole, or no tags."""
        if not image.tags:
            return self.untagged
        if not self.tag_regexp:
            return False
        pattern = _compiled(self.tag_regexp)
        return any(pattern.fullmatch(tag) for tag in image.tags)


def _period_text(period: object) -> str:
    return f"{period / 1e9:g}s" if isinstance(period, int) else repr(period)


# Rules' regexps, compiled once (bounded: rules' regexps are few, callers' may not be).
_compiled = functools.lru_cache(maxsize=1024)(re.compile)


@dataclass(slots=True)
class LifecyclePolicy:
    id: str
    repository_id: str
    name: str
    description: str
    status: str  # "ACTIVE" or "DISABLED"
    created_at_ns: int
    rules: tuple[LifecycleRule, ...] = ()
    registry_id: str = ""  # its repository's, kept for the List by registry


@dataclass(slots=True)
class DryRunResult:
    """What a dry run found: copies of the images the policy would have deleted when it ran."""

    id: str
    lifecycle_policy_id: str
    run_at_ns: int
    images: dict[str, Image] = field(default_factory=dict)  # by id
    index: ScopedIndex | None = field(default=None, repr=False, compare=False)

    @property
    def affected_images_count(self) -> int:
        return len(self.images)


@dataclass(frozen=True, slots=True)
class LifecycleRun:
    """What running a policy did: the images it deleted (one ImageService.Delete operation each),
    and those it would have deleted but kept, with why."""

    lifecycle_policy_id: str
    deleted: tuple[str, ...]  # image ids; a Cloud Registry policy's: artifact ids
    operations: tuple[str, ...]
    kept: tuple[tuple[str, str], ...] = ()  # (image or artifact id, reason)
    soft_deleted: tuple[str, ...] = ()  # a Cloud Registry policy's: artifacts marked DELETED for a cooldown


def doomed_images(images: Iterable[Image], rules: Iterable[LifecycleRule], now_ns: int) -> list[Image]:
    """The images ``rules`` would delete at ``now_ns``, oldest first."""
    images = sorted(images, key=lambda image: (image.created_at_ns, image.id))
    votes: dict[str, bool] = {}  # image id -> every rule that filters it requires it deleted (so far)
    for rule in rules:
        filtered = [image for image in images if rule.filters(image)]
        kept_from = max(0, len(filtered) - rule.retained_top)  # the newest retained_top (all, if fewer)
        retained = {image.id for image in filtered[kept_from:]}
        for image in filtered:
            expired = not rule.expire_period_ns or now_ns - image.created_at_ns >= rule.expire_period_ns
            votes[image.id] = votes.get(image.id, True) and expired and image.id not in retained
    return [image for image in images if votes.get(image.id)]


def _affected_index(images: dict[str, Image]) -> ScopedIndex:
    names = NameSerials()
    index = ScopedIndex(
        {"id": ID_ORDER, "name": by_name_then_id("name", names), "created_at": by_number_then_id("created_at_ns")},
        fields={"id": Field("id"), "name": Field("name", names), "created_at": Field("created_at_ns")},
        record_of=images.__getitem__,
    )
    index.add_many(list(images.values()), lambda image: (Scope("all", ""), Scope("name", image.name)))
    return index


class LifecyclePolicyTable:
    """Lifecycle policies by id, indexed by registry and repository (and by name in each); their dry
    runs' results by id, indexed by policy."""

    def _open_table(self) -> None:
        self.lifecycle_policies: dict[str, LifecyclePolicy] = {}
        names, statuses = NameSerials(), NameSerials()
        self._policy_index = ScopedIndex(
            {
                "id": ID_ORDER,
                "name": by_name_then_id("name", names),
                "created_at": by_number_then_id("created_at_ns"),
                "status": by_name_then_id("status", statuses),
            },
            fields={
                "id": Field("id"),
                "name": Field("name", names),
                "created_at": Field("created_at_ns"),
                "status": Field("status", statuses),
            },
            record_of=self.lifecycle_policies.__getitem__,
        )
        self.dry_run_results: dict[str, DryRunResult] = {}
        self._dry_run_index = ScopedIndex(
            {
                "id": ID_ORDER,
                "run_at": by_number_then_id("run_at_ns"),
                "affected_images_count": by_number_then_id("affected_images_count"),
            },
            fields={
                "id": Field("id"),
                "run_at": Field("run_at_ns"),
                "affected_images_count": Field("affected_images_count"),
            },
            record_of=self.dry_run_results.__getitem__,
        )
        self._dry_run_affected = 0  # affected images the kept results hold together
        # Run the ACTIVE policies this often (None: on demand only): a setting, which reset keeps.
        self.lifecycle_every_ns: int | None = getattr(self, "lifecycle_every_ns", None)
        self._lifecycle_due_ns: int | None = getattr(self, "_lifecycle_due_ns", None)

    def _table_contents(self) -> tuple:
        return self.lifecycle_policies, self._policy_index.contents(), self.dry_run_results

    def _table_effects(self) -> dict[Action, Effect]:
        return {}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        def of_policy(policy_id: str) -> str:
            return self.folder_of_target("repository", self.get_lifecycle_policy(policy_id).repository_id)

        def of_result(result_id: str) -> str:
            return of_policy(self.get_dry_run_result(result_id).lifecycle_policy_id)

        return {
            "lifecycle_policy": of_policy,
            "dry_run_lifecycle_policy_result": of_result,
            # a List's scope: the policies of a repository
            "repository_id": lambda repository_id: self.folder_of_target("repository", repository_id),
        }

    # ---- policies ----------------------------------------------------------------------

    def add_lifecycle_policy(
        self,
        repository_id: str,
        *,
        id: str | None = None,
        name: str = "",
        description: str = "",
        status: str = "DISABLED",
        rules: Iterable[LifecycleRule] = (),
        created_at_ns: int | None = None,
    ) -> LifecyclePolicy:
        """Add a policy to a repository (which then stays when its last image goes). ValueError
        naming the argument for a value it may not hold; FAILED_PRECONDITION for a second ACTIVE
        policy of the repository; NotFound for an unknown repository."""
        rules = _checked_rules(rules)
        _check_policy_fields(name, description, status)
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        with self._lock:
            repository = self.get_repository(repository_id)
            policy_id = self._new_or_given_id(id, self.lifecycle_policies, "id")
            if status == "ACTIVE":
                self._check_no_other_active(repository, policy_id)
            policy = LifecyclePolicy(
                policy_id, repository.id, name, description, status,
                self.clock.now_ns() if created_at_ns is None else created_at_ns, rules, repository.registry_id,
            )  # fmt: skip
            repository.kept = True
            self.lifecycle_policies[policy_id] = policy
            self._policy_index.add(policy, self._policy_scopes(policy))
            return policy

    def update_lifecycle_policy(
        self,
        policy_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        status: str | None = None,
        rules: Iterable[LifecycleRule] | None = None,
    ) -> LifecyclePolicy:
        """Change what is given (None: unchanged); new rules replace every rule. Checked whole
        before anything changes."""
        rules = _checked_rules(rules) if rules is not None else None
        with self._lock:
            policy = self.get_lifecycle_policy(policy_id)
            new = (
                policy.name if name is None else name,
                policy.description if description is None else description,
                policy.status if status is None else status,
            )
            _check_policy_fields(*new)
            if new[2] == "ACTIVE":
                self._check_no_other_active(self.repositories[policy.repository_id], policy.id)

            self._policy_index.remove(policy, self._policy_scopes(policy))  # its name and status are scopes too
            policy.name, policy.description, policy.status = new
            if rules is not None:
                policy.rules = rules
            self._policy_index.add(policy, self._policy_scopes(policy))
            return policy

    def get_lifecycle_policy(self, policy_id: str) -> LifecyclePolicy:
        with self._lock:
            return found(self.lifecycle_policies.get(policy_id), "Lifecycle policy", policy_id)

    def delete_lifecycle_policy(self, policy_id: str) -> LifecyclePolicy:
        """Remove a policy and its dry runs' results."""
        with self._lock:
            policy = self.get_lifecycle_policy(policy_id)
            self._policy_index.remove(policy, self._policy_scopes(policy))
            del self.lifecycle_policies[policy.id]
            for result_id in self._dry_run_index.page(Scope("policy", policy.id), "id", limit=MAX_DRY_RUN_RESULTS)[0]:
                self._drop_dry_run(self.dry_run_results[result_id])
            return policy

    def list_lifecycle_policies(self, scope: Scope, **page: Any) -> tuple[list[LifecyclePolicy], Cursor | None]:
        """One page of the policies of a registry or repository (``scope`` kinds ``registry``,
        ``repository_id``), as Store._list says."""
        return self._list(self._policy_index, self.lifecycle_policies, scope, _named_group, **page)

    def _drop_repository_policies(self, repository: Repository) -> None:
        """A repository going takes its policies with it."""
        scope = Scope("repository_id", repository.id)
        while self._policy_index.holds(scope):
            self.delete_lifecycle_policy(self._policy_index.page(scope, "id", limit=1)[0][0])

    def _check_no_other_active(self, repository: Repository, policy_id: str) -> None:
        scope = Scope("repository_status", (repository.id, "ACTIVE"))
        active = [other for other in self._policy_index.page(scope, "id", limit=2)[0] if other != policy_id]
        if active:
            raise FailedPrecondition(
                f"Repository {repository.name} already has an ACTIVE lifecycle policy, {active[0]}: "
                "a repository has at most one; disable it first"
            )

    @staticmethod
    def _policy_scopes(policy: LifecyclePolicy) -> tuple[Scope, ...]:
        return (
            Scope("registry", policy.registry_id),
            Scope("repository_id", policy.repository_id),
            Scope("registry_name", (policy.registry_id, policy.name)),
            Scope("repository_id_name", (policy.repository_id, policy.name)),
            Scope("repository_status", (policy.repository_id, policy.status)),
        )

    # ---- dry runs ----------------------------------------------------------------------

    def dry_run_lifecycle_policy(self, policy_id: str, *, id: str | None = None) -> DryRunResult:
        """What the policy would delete now (at most the oldest MAX_DRY_RUN_IMAGES of its
        repository's images are checked), kept as a result."""
        with self._lock:
            policy = self.get_lifecycle_policy(policy_id)
            now = self.clock.now_ns()
            checked = self._images_of_repository(policy.repository_id)[:MAX_DRY_RUN_IMAGES]
            images = {image.id: detached(image) for image in doomed_images(checked, policy.rules, now)}
            result_id = self._new_or_given_id(id, self.dry_run_results, "id")
            return self._keep_dry_run(DryRunResult(result_id, policy.id, now, images))

    def add_dry_run_result(self, result: DryRunResult) -> DryRunResult:
        """Keep a result as it is (a seed's or a state file's)."""
        with self._lock:
            self.get_lifecycle_policy(result.lifecycle_policy_id)
            self._new_or_given_id(result.id, self.dry_run_results, "id")
            check_timestamp(result.run_at_ns, "run_at")
            return self._keep_dry_run(result)

    def get_dry_run_result(self, result_id: str) -> DryRunResult:
        with self._lock:
            return found(self.dry_run_results.get(result_id), "Dry run result", result_id)

    def list_dry_run_results(
        self, scope: Scope, *, names_in=None, names_not_in=(), **page: Any
    ) -> tuple[list[DryRunResult], Cursor | None]:
        """One page of a policy's dry-run results (``scope``: ``lifecycle_policy``). The filter names
        the policy (as the request's documentation says): all of them, or none."""
        with self._lock:
            policy = self.get_lifecycle_policy(scope.value)
            if (names_in is not None and policy.name not in names_in) or policy.name in names_not_in:
                return [], None
            ids, cursor = self._dry_run_index.page(Scope("policy", policy.id), **page)
            return [self.dry_run_results[result_id] for result_id in ids], cursor

    def list_affected_images(self, scope: Scope, **page: Any) -> tuple[list[Image], Cursor | None]:
        """One page of a dry-run result's images (``scope``: ``dry_run_lifecycle_policy_result``)."""
        with self._lock:
            result = self.get_dry_run_result(scope.value)
            if result.index is None:  # built on first use
                result.index = _affected_index(result.images)
            return self._list(result.index, result.images, Scope("all", ""), _affected_group, **page)

    def _keep_dry_run(self, result: DryRunResult) -> DryRunResult:
        """Keep a result; beyond the bounds the oldest others (by run_at, however they were loaded) go."""
        self.dry_run_results[result.id] = result
        self._dry_run_index.add(result, self._dry_run_scopes(result))
        self._dry_run_affected += result.affected_images_count
        while len(self.dry_run_results) > MAX_DRY_RUN_RESULTS or self._dry_run_affected > MAX_DRY_RUN_AFFECTED:
            oldest = self._dry_run_index.page(_EVERY_RESULT, "run_at", limit=2)[0]
            victim = next((result_id for result_id in oldest if result_id != result.id), None)
            if victim is None:
                break
            self._drop_dry_run(self.dry_run_results[victim])
        return result

    def _drop_dry_run(self, result: DryRunResult) -> None:
        self._dry_run_index.remove(result, self._dry_run_scopes(result))
        del self.dry_run_results[result.id]
        self._dry_run_affected -= result.affected_images_count

    @staticmethod
    def _dry_run_scopes(result: DryRunResult) -> tuple[Scope, Scope]:
        return Scope("policy", result.lifecycle_policy_id), _EVERY_RESULT

    def _images_of_repository(self, repository_id: str) -> list[Image]:
        """The repository's images, oldest first."""
        repository = self.get_repository(repository_id)
        return sorted((self.images[i] for i in repository.digests.values()), key=lambda i: (i.created_at_ns, i.id))

    # ---- runs --------------------------------------------------------------------------

    def run_lifecycle_policies(self, policy_id: str | None = None) -> list[LifecycleRun]:
        """Run the ACTIVE policies (or the one named, which must be ACTIVE), oldest first, as one
        step: each deletes what its rules require now through ImageService.Delete's path, one done
        operation recorded per image. An image an image list outside the doomed ones references, or
        one a pending operation holds, is kept (and said why). Then Cloud Registry's ENABLED
        policies (emulator.state.cloud_lifecycle), or the one named."""
        with self._lock:
            if policy_id is not None and policy_id in self.cloud_lifecycle_policies:
                return [self.run_cloud_policy(policy_id)]
            if policy_id is not None:
                policy = self.get_lifecycle_policy(policy_id)
                if policy.status != "ACTIVE":
                    raise FailedPrecondition(
                        f"Lifecycle policy {policy.id} is {policy.status}: only an ACTIVE policy runs (DryRun it)"
                    )
                policies = [policy]
            else:
                active = (p for p in self.lifecycle_policies.values() if p.status == "ACTIVE")
                policies = sorted(active, key=lambda p: (p.created_at_ns, p.id))
            runs = [self._run(policy) for policy in policies]
            return runs if policy_id is not None else runs + self.run_cloud_policies()

    def _run(self, policy: LifecyclePolicy) -> LifecycleRun:
        now = self.clock.now_ns()
        doomed = {
            image.id for image in doomed_images(self._images_of_repository(policy.repository_id), policy.rules, now)
        }
        kept: dict[str, str] = {}
        for image_id in doomed:
            holder = self.log.holding("Image", image_id)
            if holder is not None:
                kept[image_id] = f"a pending operation, {holder}, holds it"
        changed = True
        while changed:  # an image kept keeps what its image lists reference: until nothing more is kept
            changed = False
            going = doomed - kept.keys()
            for image_id in sorted(image_id for image_id in going if self._referenced_by.get(image_id)):
                outside = sorted(self._referenced_by[image_id] - going)
                if outside:
                    kept[image_id] = f"image list {outside[0]} references it"
                    changed = True
        deleting = [image_id for image_id in sorted(doomed) if image_id not in kept]
        folder_id = self.folder_of_target("repository", policy.repository_id)
        self.delete_images(deleting)
        operations = []
        for image_id in deleting:
            operation = Operation(
                id=self.new_operation_id(),
                description="Delete image",
                created_at_ns=now,
                created_by=f"lifecycle-policy:{policy.id}",
                modified_at_ns=now,
                done=True,
                metadata_type=DELETE_IMAGE_METADATA,
                metadata={"image_id": image_id},
                response_type="google.protobuf.Empty",
                folder_id=folder_id,
            )
            operations.append(self.log.add(operation).id)
        return LifecycleRun(policy.id, tuple(deleting), tuple(operations), tuple(sorted(kept.items())))

    def schedule_lifecycle_policies(self, every_ns: int | None) -> None:
        """Run the ACTIVE policies every ``every_ns`` of the clock from now (None: only on demand)."""
        if every_ns is not None and (type(every_ns) is not int or not 0 < every_ns <= MAX_SCHEDULE_NS):
            raise ValueProblem("every", "must be a positive number of seconds, at most 100 years", every_ns)
        with self._lock:
            self.lifecycle_every_ns = every_ns
            self._lifecycle_due_ns = None if every_ns is None else self.clock.now_ns() + every_ns

    def _run_due_lifecycle_policies(self, now_ns: int) -> int:
        """Run the ACTIVE policies if the schedule says they are due (once however late); how many ran."""
        due = self._lifecycle_due_ns
        if due is None or now_ns < due:
            return 0
        every = self.lifecycle_every_ns
        self._lifecycle_due_ns = due + ((now_ns - due) // every + 1) * every
        return len(self.run_lifecycle_policies())


_EVERY_RESULT = Scope("every", "")  # the dry-run index's scope of all results: the oldest go first


def _named_group(name: str, scope: Scope) -> Scope | None:
    """The scope of the policies named ``name`` inside a registry or repository scope."""
    return Scope(f"{scope.kind}_name", (scope.value, name))


def _affected_group(name: str, scope: Scope) -> Scope | None:
    return Scope("name", name)


def _checked_rules(rules: Iterable[LifecycleRule]) -> tuple[LifecycleRule, ...]:
    rules = tuple(rules)
    if len(rules) > MAX_RULES:
        raise ValueProblem("rules", f"a policy has at most {MAX_RULES} rules", len(rules))
    for position, rule in enumerate(rules):
        if not isinstance(rule, LifecycleRule):
            raise ValueProblem(f"rules[{position}]", "must be a LifecycleRule", rule)
        rule.check(f"rules[{position}]")
    return rules


_POLICY_NAME = re.compile(r"|[a-z][-a-z0-9]{1,61}[a-z0-9]")


def _check_policy_fields(name: object, description: object, status: object) -> None:
    if not (isinstance(name, str) and _POLICY_NAME.fullmatch(name)):
        raise ValueProblem("name", f"must match {_POLICY_NAME.pattern}", shown(name))
    if not isinstance(description, str) or len(description) > 256:
        raise ValueProblem("description", "must be a string of at most 256 characters", shown(description))
    if status not in POLICY_STATUSES:
        raise ValueProblem("status", f"must be one of {', '.join(POLICY_STATUSES)}", status)
