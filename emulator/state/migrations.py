"""Clouds, and the migration of Container Registry registries to Cloud Registry
(Cloud Registry's MigrationService): what moves, how far it has got, and the redirects kept.

A folder belongs to one cloud (``DEFAULT_CLOUD_ID`` unless said otherwise). A migration is started for
a folder's or a cloud's Container Registry registries; its operation is done now or later by the
method's operation mode, and while it pends its registries' records follow the operation's progress
(the share of its polls or of its delay gone by): repositories are moved in order of path, each one's
tags with it. When it is done, each registry that nothing failed becomes a Cloud Registry DOCKER
registry with the same id (emulator.state.conversion); a registry with a failed part (a fault rule's
``migration_failure``, or a policy that cannot be converted) stays in Container Registry, FAILED, and
the operation finishes with the first failure's code. Starting again migrates what is left.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.rpc import code_pb2

from emulator.api.errors import AlreadyExists, ApiError, FailedPrecondition, NotFound, OperationFailed, shown
from emulator.api.values import check_id
from emulator.state.codecs import format_timestamp
from emulator.state.operation_log import Effect
from emulator.state.records import Action, Registry
from emulator.state.stages import BACKUPS_KEPT_UNTIL, SHUT_DOWN, SHUT_DOWN_FROM

DEFAULT_CLOUD_ID = "b1g0000000000000cloud"  # every folder's cloud unless said otherwise: the emulator's
MAX_MIGRATIONS = 10_000  # registry records kept (the oldest finished go first): the emulator's bound
CREATED, SCHEDULED, IN_PROGRESS, COMPLETED, FAILED = "CREATED", "SCHEDULED", "IN_PROGRESS", "COMPLETED", "FAILED"
NOT_FOUND = "NOT_FOUND"  # a record whose source was gone when its turn came (counted apart)


@dataclass(frozen=True)
class MigrationFailure:
    """A part a fault rule makes fail: a registry, one of its repositories (a path), or one tag of it."""

    registry_id: str
    repository: str | None
    tag: str | None
    code: str
    message: str

    def hits(self, path: str, tag: str | None = None) -> bool:
        return (self.repository is None or self.repository == path) and (self.tag is None or self.tag == tag)


@dataclass
class RegistryMigration:
    """One registry's migration: what it held when it was started, and, once done, how each part ended."""

    registry_id: str
    folder_id: str
    cloud_id: str
    run: str  # the key of the migration (its pending operation's target) that moved it
    repositories: tuple[str, ...]  # paths, in the order they move
    tags: dict[str, tuple[str, ...]]  # path -> its tags
    failures: tuple[MigrationFailure, ...] = ()
    redirects: bool = True
    done: bool = False
    # Once done: path -> (status, error code, message); (path, tag) -> the same.
    outcome: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    tag_outcome: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    status: str = SCHEDULED  # once done: COMPLETED, FAILED or NOT_FOUND
    # While it pends: the record it replaced (FAILED: a start takes only registries still to move),
    # back if it is cancelled.
    previous: RegistryMigration | None = None


@dataclass
class _Plan:
    registry_ids: tuple[str, ...]
    failures: tuple[MigrationFailure, ...]
    redirects: bool


class MigrationTable:
    def _open_table(self) -> None:
        self.folder_clouds: dict[str, str] = {}  # folder id -> its cloud, where not DEFAULT_CLOUD_ID
        self.migrations: dict[str, RegistryMigration] = {}  # registry id -> its latest migration
        self._plans: dict[str, _Plan] = {}  # a pending migration's key -> what it moves
        self._plan_keys = itertools.count(1)

    def _table_contents(self) -> tuple:
        return self.folder_clouds, self.migrations, self._plans

    def _table_effects(self) -> dict[Action, Effect]:
        return {
            Action.MIGRATE: Effect(
                mark=self._mark_migration,
                perform=self._perform_migration,
                unmark=self._drop_migration,
                unmark_on_failure=False,
            )  # fmt: skip
        }

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {"migrated_registry": self._folder_of_migrated}

    def _folder_of_migrated(self, registry_id: str) -> str:
        """Where a registry's redirects are checked: its migration's folder, or (never migrated) its own;
        NOT_FOUND if neither is known, before anyone's access is looked at."""
        record = self.migrations.get(registry_id)
        if record is not None:
            return record.folder_id
        registry = self.registries.get(registry_id)
        if registry is None:
            raise NotFound(f"Registry {shown(registry_id)} not found")
        return registry.folder_id

    # ---- clouds ----------------------------------------------------------------------------

    def cloud_of(self, folder_id: str) -> str:
        return self.folder_clouds.get(folder_id, DEFAULT_CLOUD_ID)

    def set_folder_cloud(self, folder_id: str, cloud_id: str) -> None:
        """Say which cloud a folder belongs to (ValueProblem for an id the API could not carry)."""
        check_id(folder_id, "folder_id")
        check_id(cloud_id, "cloud_id")
        with self._lock:
            if cloud_id == DEFAULT_CLOUD_ID:
                self.folder_clouds.pop(folder_id, None)
            else:
                self.folder_clouds[folder_id] = cloud_id

    def _in_scope(self, scope: str, scope_id: str) -> Callable[[str], bool]:
        """Whether a folder lies in a folder (``folder``) or cloud (``cloud``) scope."""
        if scope == "folder":
            return lambda folder_id: folder_id == scope_id
        return lambda folder_id: self.cloud_of(folder_id) == scope_id

    # ---- starting ----------------------------------------------------------------------------

    def plan_migration(
        self,
        scope: str,
        scope_id: str,
        *,
        redirects: bool = True,
        failures_of: Callable[[tuple[str, ...]], Iterable[MigrationFailure]] = lambda registry_ids: (),
    ) -> tuple[str, tuple[str, ...]]:
        """Choose what a migration of a folder or cloud moves: its ACTIVE Container Registry registries,
        and the parts that fail (``failures_of`` the chosen ids: fault rules, taken only by a start that
        gets this far). Returns (the key its operation's pending action names, their ids, in order).
        FAILED_PRECONDITION if one of them is being migrated already (the tutorial's warning: check the
        current operation before starting again), or once Container Registry is shut down (the sunset
        page: discontinued 2026-12-14, backups kept until BACKUPS_KEPT_UNTIL; the code is the emulator's choice)."""
        with self._lock:
            inside = self._in_scope(scope, scope_id)
            chosen = tuple(
                sorted(
                    registry.id
                    for registry in self.registries.values()
                    if registry.kind is None and registry.status == "ACTIVE" and inside(registry.folder_id)
                )
            )
            if chosen and self.container_registry_stage.at(self.clock.now_ns()) == SHUT_DOWN:
                raise FailedPrecondition(
                    f"Container Registry was shut down on {SHUT_DOWN_FROM:%Y-%m-%d}: its registries "
                    f"({', '.join(chosen)}) can no longer be migrated; its data remains only in backups, "
                    f"kept until {BACKUPS_KEPT_UNTIL}"
                )
            for registry_id in chosen:
                record = self.migrations.get(registry_id)
                if record is not None and not record.done:
                    operation_id = self.log.holding(Action.MIGRATE.kind, record.run) or "(loaded)"
                    raise FailedPrecondition(
                        f"Registry {registry_id} is being migrated by operation {operation_id}; check that "
                        "operation (OperationService.Get) or the migration status dashboard before starting again"
                    )
            # A plan lives from here to its operation's start, under the same lock: any left is one a fault
            # rule's operation_error finished unstarted (nothing takes it back then), so it goes.
            self._plans.clear()
            # A loaded run's too, and a kept earlier record's: keys outlive restarts.
            used = {record.run for record in self.migrations.values()}
            used |= {record.previous.run for record in self.migrations.values() if record.previous is not None}
            key = next(key for n in self._plan_keys if (key := f"{scope}:{scope_id}#{n}") not in used)
            self._plans[key] = _Plan(chosen, tuple(failures_of(chosen)), redirects)
            return key, chosen

    def _mark_migration(self, key: str) -> None:
        """The records of a migration that pends: its registries as they are now, nothing moved yet.
        From here on the records are all there is of it (the state file keeps them)."""
        plan = self._plans.pop(key)
        for registry_id in plan.registry_ids:
            registry = self.registries[registry_id]
            repositories = self._repository_tags(registry_id)
            previous = self.migrations.pop(registry_id, None)  # a new record goes to the end: the newest
            self.migrations[registry_id] = RegistryMigration(
                registry_id=registry_id, folder_id=registry.folder_id, cloud_id=self.cloud_of(registry.folder_id),
                run=key, repositories=tuple(sorted(repositories)),
                tags={path: tags for path, tags in repositories.items()},
                failures=tuple(f for f in plan.failures if f.registry_id == registry_id), redirects=plan.redirects,
                previous=previous if previous is not None and previous.status == FAILED else None,
            )  # fmt: skip
        self._forget_old_migrations()

    def _drop_migration(self, key: str) -> None:
        """A cancelled migration (or one a fault rule failed whole): nothing moved, so each registry's
        record is the one before it again (an earlier failed migration's), or none."""
        self._plans.pop(key, None)
        for registry_id in [registry_id for registry_id, record in self.migrations.items() if record.run == key]:
            previous = self.migrations.pop(registry_id).previous
            if previous is not None:
                self.migrations[registry_id] = previous

    def _repository_tags(self, registry_id: str) -> dict[str, tuple[str, ...]]:
        """A Container Registry registry's repositories: path -> its tags, sorted."""
        return {repository.path: tuple(sorted(repository.tags)) for repository in self._repositories_of(registry_id)}

    # ---- finishing -----------------------------------------------------------------------------

    def _perform_migration(self, key: str) -> None:
        """Move what the migration chose; OperationFailed (the operation's error) if any part failed."""
        if key in self._plans:  # done at the call: its records are made now
            self._mark_migration(key)
        records = [record for record in self.migrations.values() if record.run == key]
        failed = []
        for record in records:
            self._migrate_registry(record)
            if record.status == FAILED:
                failed.append(record)
        if failed:
            first = next(
                (code, message) for record in failed for code, message in _errors(record) if code
            )  # fmt: skip
            names = ", ".join(record.registry_id for record in failed[:3]) + (" ..." if len(failed) > 3 else "")
            raise OperationFailed(
                first[0],
                f"{len(failed)} of {len(records)} registries failed to migrate ({names}): {first[1]}; "
                "they stay in Container Registry: see the migration status dashboard, then start again",
            )

    def _migrate_registry(self, record: RegistryMigration) -> None:
        from emulator.state import conversion, seed  # seed builds on the store this table is part of

        registry = self.registries.get(record.registry_id)
        record.done = True
        record.previous = None
        if registry is None or registry.kind is not None:  # deleted (or moved) meanwhile
            record.status = NOT_FOUND
            record.outcome = {path: (NOT_FOUND, "", "") for path in record.repositories}
            record.tag_outcome = {(p, t): (NOT_FOUND, "", "") for p in record.repositories for t in record.tags[p]}
            return
        now = self.clock.now_ns()
        current = self._repository_tags(registry.id)
        if registry.status != "ACTIVE":  # a Container Registry delete of it pends: it goes, it does not move
            message = f"Registry {registry.id} is {registry.status}: a Container Registry operation on it pends"
            _fail_whole(record, current, "FAILED_PRECONDITION", message)
            return
        problem: tuple[str, str, str] | None = None  # (the repository whose policy cannot move, code, message)
        entry = seed.registry_entry(self, registry)
        converted = None
        try:
            converted = conversion.registry_entry(entry, format_timestamp(now))
        except conversion.NotConvertible as refused:
            problem = (refused.path, "FAILED_PRECONDITION", str(refused))
        for path in sorted(set(record.repositories) | set(current)):
            tags = current.get(path)
            hit = next((f for f in record.failures if f.hits(path)), None) if tags is not None else None
            if tags is None:
                record.outcome[path] = (NOT_FOUND, "", "")
            elif hit is not None and hit.tag is None:
                record.outcome[path] = (FAILED, hit.code, hit.message)
            elif problem is not None and problem[0] == path:
                record.outcome[path] = (FAILED, problem[1], problem[2])
            else:
                record.outcome[path] = (COMPLETED, "", "")
            for tag in sorted(set(record.tags.get(path, ())) | set(tags or ())):
                tag_hit = next((f for f in record.failures if f.tag is not None and f.hits(path, tag)), None)
                if tags is None or tag not in tags:
                    record.tag_outcome[(path, tag)] = (NOT_FOUND, "", "")
                elif tag_hit is not None:
                    record.tag_outcome[(path, tag)] = (FAILED, tag_hit.code, tag_hit.message)
                    record.outcome[path] = (FAILED, tag_hit.code, f"tag {tag}: {tag_hit.message}")
                else:
                    record.tag_outcome[(path, tag)] = record.outcome[path]
        registry_failure = next((f for f in record.failures if f.repository is None), None)
        if registry_failure is not None and not current:  # nothing to fail but the registry itself
            record.outcome[""] = (FAILED, registry_failure.code, registry_failure.message)
        if any(status == FAILED for status, _, _ in record.outcome.values()):
            record.status = FAILED
            return
        try:  # Cloud Registry's Create would refuse it too
            self._check_name_free(Registry(registry.id, registry.folder_id, registry.name, 0, kind=converted["kind"]))
        except AlreadyExists as taken:
            _fail_whole(
                record, current, taken.code, f"{taken} (in Cloud Registry): rename one of them, then start again"
            )
            return
        self.delete_registry(registry.id, force=True)
        try:
            seed.apply_seed(self, {"registries": [converted]}, None)
        except (ValueError, ApiError) as error:  # e.g. a Cloud Registry registry of that name in the folder
            seed.apply_seed(self, {"registries": [entry]}, None)  # as it was
            _fail_whole(
                record, current, error.code if isinstance(error, ApiError) else "FAILED_PRECONDITION", str(error)
            )
            return
        record.status = COMPLETED

    def _forget_old_migrations(self) -> None:
        while len(self.migrations) > MAX_MIGRATIONS:
            oldest = next((registry_id for registry_id, record in self.migrations.items() if record.done), None)
            if oldest is None:
                return
            del self.migrations[oldest]

    # ---- redirects ---------------------------------------------------------------------------

    def _migrated(self, registry_id: str) -> RegistryMigration:
        """A registry whose migration COMPLETED and that is still there: what has redirects."""
        record = self.migrations.get(registry_id)
        if registry_id not in self.registries:  # never there, or deleted since it moved
            raise NotFound(f"Registry {shown(registry_id)} not found")
        if record is None or record.status != COMPLETED:
            raise FailedPrecondition(f"Registry {shown(registry_id)} has not been migrated: it has no redirects")
        return record

    def toggle_redirects(self, scope: str, scope_id: str, enabled: bool) -> tuple[str, ...]:
        """Allow or stop the redirects of a migrated registry (scope ``registry``), or of every migrated
        registry of a folder or cloud; the ids of the registries it set."""
        with self._lock:
            if scope == "registry":
                records = [self._migrated(scope_id)]
            else:
                records = [
                    record
                    for record in self._records_in(scope, scope_id)
                    if record.status == COMPLETED and record.registry_id in self.registries
                ]
            for record in records:
                record.redirects = enabled
            return tuple(record.registry_id for record in records)

    # ---- progress ----------------------------------------------------------------------------

    def migration_progress(self, record: RegistryMigration) -> tuple[str, dict, dict]:
        """A record as it stands now: (registry status, path -> (status, code, message), (path, tag) -> the same)."""
        if record.done:
            return record.status, record.outcome, record.tag_outcome
        share = self._share_done(record.run)
        paths = record.repositories
        moved = int(share * len(paths))
        outcome, tag_outcome = {}, {}
        for position, path in enumerate(paths):
            status = COMPLETED if position < moved else IN_PROGRESS if position == moved and share > 0 else SCHEDULED
            if status == COMPLETED:  # what will fail shows as it is reached
                hit = next((f for f in record.failures if f.hits(path) and f.tag is None), None)
                status, code, message = (FAILED, hit.code, hit.message) if hit else (COMPLETED, "", "")
            else:
                code = message = ""
            outcome[path] = (status, code, message)
            for tag in record.tags[path]:
                tag_outcome[(path, tag)] = (status, code, message)
        status = IN_PROGRESS if share > 0 else SCHEDULED
        return status, outcome, tag_outcome

    def _share_done(self, key: str) -> float:
        """How far the pending operation of a migration has got: its polls, or its delay, gone by (0 to 1)."""
        operation_id = self.log.holding(Action.MIGRATE.kind, key)
        operation = self.log.operations.get(operation_id) if operation_id else None
        work = operation.pending if operation is not None else None
        if work is None:
            return 0.0
        if work.due_ns is not None:
            span = work.due_ns - operation.created_at_ns
            return 0.0 if span <= 0 else min(1.0, max(0.0, (self.clock.now_ns() - operation.created_at_ns) / span))
        if not work.polls_total or work.polls_left is None:
            return 0.0
        return min(1.0, max(0.0, (work.polls_total - work.polls_left) / work.polls_total))

    def _records_in(self, scope: str, scope_id: str) -> list[RegistryMigration]:
        """The registry records of a folder, or of a cloud: the one the folder was in when it moved."""
        if scope == "folder":
            return [record for record in self.migrations.values() if record.folder_id == scope_id]
        return [record for record in self.migrations.values() if record.cloud_id == scope_id]

    def migrations_in(self, scope: str, scope_id: str) -> list[RegistryMigration]:
        """The registry records of a folder or cloud, by registry id."""
        with self._lock:
            return sorted(self._records_in(scope, scope_id), key=lambda record: record.registry_id)


def _fail_whole(record: RegistryMigration, current: dict[str, tuple[str, ...]], code: str, message: str) -> None:
    """The registry failed as a whole: each of its repositories and tags with the same error."""
    record.status = FAILED
    record.outcome = {path: (FAILED, code, message) for path in current} or {"": (FAILED, code, message)}
    record.tag_outcome = {(path, tag): (FAILED, code, message) for path, tags in current.items() for tag in tags}


def _errors(record: RegistryMigration) -> list[tuple[str, str]]:
    return [(code, message) for status, code, message in record.outcome.values() if status == FAILED]


_STATUSES = (CREATED, SCHEDULED, IN_PROGRESS, COMPLETED, FAILED, NOT_FOUND)


def migration_json(record: RegistryMigration) -> dict:
    """A registry's migration record in the seed format (the state file keeps it)."""
    entry = {
        "registry_id": record.registry_id, "folder_id": record.folder_id, "cloud_id": record.cloud_id,
        "run": record.run, "repositories": {path: list(record.tags[path]) for path in record.repositories},
        "redirects": record.redirects, "done": record.done, "status": record.status,
    }  # fmt: skip
    if record.failures:
        entry["failures"] = [
            {key: value for key, value in vars(failure).items() if value is not None} for failure in record.failures
        ]
    if record.done:
        entry["outcome"] = {path: list(value) for path, value in record.outcome.items()}
        entry["tag_outcome"] = [[path, tag, *value] for (path, tag), value in record.tag_outcome.items()]
    if record.previous is not None:
        entry["previous"] = migration_json(record.previous)
    return entry


_RECORD_KEYS = {
    "registry_id", "folder_id", "cloud_id", "run", "repositories", "redirects", "done", "status", "failures",
    "outcome", "tag_outcome", "previous",
}  # fmt: skip
_FAILURE_KEYS = {"registry_id", "repository", "tag", "code", "message"}
_CODES = frozenset(code_pb2.Code.keys()) - {"OK"}
_DONE = (COMPLETED, FAILED, NOT_FOUND)


class _Bad(Exception):
    """What is wrong in a record, at a field (``at``: "" for the record itself)."""

    def __init__(self, at: str, text: str):
        super().__init__(f".{at}: {text}" if at else f": {text}")


def _text_of(value: object, at: str, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise _Bad(at, f"must be a{' non-empty' if not empty else ''} string, got {value!r}")
    return value


def _id_of(value: object, at: str) -> str:
    try:
        return check_id(value, at)
    except ValueError:
        raise _Bad(at, f"must be 1-50 lowercase letters or digits, got {value!r}") from None


def _object(value: object, at: str, keys: set[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise _Bad(at, f"must be an object, got {value!r}")
    unknown = sorted(set(value) - keys) if keys is not None else []
    if unknown:
        raise _Bad(at, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})")
    return value


def _list(value: object, at: str) -> list:
    if not isinstance(value, list):
        raise _Bad(at, f"must be a list, got {value!r}")
    return value


def _outcome_of(value: object, at: str) -> tuple[str, str, str]:
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(item, str) for item in value)):
        raise _Bad(at, f"must be [status, code, message], got {value!r}")
    status, code, message = value
    if status not in _STATUSES or (code and code not in _CODES):
        raise _Bad(at, f"must be [status, code, message] with a status of {', '.join(_STATUSES)}, got {value!r}")
    return status, code, message


def _failure_of(value: object, at: str) -> MigrationFailure:
    entry = _object(value, at, _FAILURE_KEYS)
    for key in ("registry_id", "code", "message"):
        if key not in entry:
            raise _Bad(f"{at}.{key}", "is required")
    code = entry["code"]
    if code not in _CODES:
        raise _Bad(f"{at}.code", f"must be a status code name other than OK, got {code!r}")
    return MigrationFailure(
        _id_of(entry["registry_id"], f"{at}.registry_id"),
        None if entry.get("repository") is None else _text_of(entry["repository"], f"{at}.repository", empty=False),
        None if entry.get("tag") is None else _text_of(entry["tag"], f"{at}.tag", empty=False),
        code,
        _text_of(entry["message"], f"{at}.message", empty=False),
    )


def migration_from_json(entry: object, where: str) -> RegistryMigration:
    """A record from migration_json's form; ValueError naming the field that is wrong in it."""
    try:
        entry = _object(entry, "", _RECORD_KEYS)
        for key in ("registry_id", "folder_id", "cloud_id", "run"):
            if key not in entry:
                raise _Bad(key, "is required")
        ids = {key: _id_of(entry[key], key) for key in ("registry_id", "folder_id", "cloud_id")}
        repositories = {}
        for path, tags in _object(entry.get("repositories", {}), "repositories").items():
            if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
                raise _Bad(f"repositories.{path}", f"must be a list of tags, got {tags!r}")
            repositories[path] = tuple(tags)
        done = entry.get("done", False)
        if not isinstance(done, bool):
            raise _Bad("done", f"must be true or false, got {done!r}")
        status = entry.get("status", SCHEDULED if not done else None)
        if done and status not in _DONE:
            raise _Bad("status", f"a done record is {', '.join(_DONE[:-1])} or {_DONE[-1]}, got {status!r}")
        if not done and status not in (SCHEDULED, IN_PROGRESS):
            raise _Bad("status", f"a record not done is {SCHEDULED} (its progress is its operation's), got {status!r}")
        failures = tuple(
            _failure_of(item, f"failures[{f}]") for f, item in enumerate(_list(entry.get("failures", []), "failures"))
        )
        outcome = {
            _text_of(path, "outcome"): _outcome_of(value, f"outcome.{path}")
            for path, value in _object(entry.get("outcome", {}), "outcome").items()
        }
        tag_outcome = {}
        for position, item in enumerate(_list(entry.get("tag_outcome", []), "tag_outcome")):
            at = f"tag_outcome[{position}]"
            if not (isinstance(item, list) and len(item) == 5):
                raise _Bad(at, f"must be [path, tag, status, code, message], got {item!r}")
            tag_outcome[(_text_of(item[0], at), _text_of(item[1], at))] = _outcome_of(item[2:], at)
        redirects = entry.get("redirects", True)
        if not isinstance(redirects, bool):
            raise _Bad("redirects", f"must be true or false, got {redirects!r}")
        previous = None
        if entry.get("previous") is not None:  # the FAILED record a start pending now replaced
            if done:
                raise _Bad("previous", "only a record not done has one (the done record it replaced)")
            wrong = "must be a FAILED record of the same registry, with no previous of its own"
            if not isinstance(entry["previous"], dict) or entry["previous"].get("previous") is not None:
                raise _Bad("previous", wrong)  # checked before it is read: no nesting to recurse into
            previous = migration_from_json(entry["previous"], f"{where}.previous")
            if previous.status != FAILED or previous.registry_id != ids["registry_id"]:
                raise _Bad("previous", wrong)
        return RegistryMigration(
            **ids, run=_text_of(entry["run"], "run", empty=False), repositories=tuple(repositories),
            tags=repositories, failures=failures, redirects=redirects, done=done, outcome=outcome,
            tag_outcome=tag_outcome, status=SCHEDULED if not done else status, previous=previous,
        )  # fmt: skip
    except _Bad as problem:
        raise ValueError(f"{where}{problem}") from None
