"""The emulator's whole state: folders -> registries -> repositories -> images (each a table of
its own module), and the operation log; the one lock that makes each step atomic, and the effects
pending operations have on the tables when they finish. Plain Python: no gRPC, no protobuf.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial

from emulator.api.ids import REGISTRY_PREFIX, IdGenerator
from emulator.api.values import check_id
from emulator.state.artifacts import ArtifactTable
from emulator.state.clock import Clock
from emulator.state.cloud_lifecycle import CloudLifecycleTable
from emulator.state.images import ImageTable
from emulator.state.lifecycle import LifecyclePolicyTable
from emulator.state.listing import (
    Cursor,
    Scope,
    ScopedIndex,
)
from emulator.state.migrations import MigrationTable
from emulator.state.operation_log import DEFAULT_MAX_FINISHED_OPERATIONS, Effect, OperationLog
from emulator.state.operation_modes import Mode
from emulator.state.reaper import REAPER
from emulator.state.records import (
    CONTAINER_REGISTRY_API,
    FOLDER_SCOPES,
    Action,
    Operation,
)
from emulator.state.registries import RegistryTable
from emulator.state.repositories import RepositoryTable
from emulator.state.scans import ScanTable
from emulator.state.stages import ACTIVE, Stage

# The tables the Store is made of, each a module of its own. A table says what it holds
# (``_open_table``: its dicts and indexes, empty; ``_table_contents``: those dicts, for reset to free), what
# its pending-operation actions do (``_table_effects``) and which kinds of call target it finds the
# folder of (``_table_folders``). Adding a kind of resource is adding its table here.
TABLES = (
    RegistryTable,
    RepositoryTable,
    ImageTable,
    LifecyclePolicyTable,
    ScanTable,
    ArtifactTable,
    CloudLifecycleTable,
    MigrationTable,
)


class Store(*TABLES):
    """The emulator's whole state. Thread-safe: every public method holds one lock."""

    def __init__(
        self,
        random_seed: int | None = None,
        *,
        max_operations: int = DEFAULT_MAX_FINISHED_OPERATIONS,
        clock: Clock | None = None,
    ):
        """``max_operations``: how many finished operations (and their idempotency keys) are kept;
        beyond it the oldest finished ones are forgotten (pending ones never are). ``clock``: what
        stamps records and decides when delay-mode operations are due (default: the system time)."""
        self._lock = threading.RLock()
        self.clock = clock if clock is not None else Clock()
        self.log = OperationLog(self._effects(), max_finished=max_operations)
        self.ids = IdGenerator(random_seed)
        # Repositories draw their ids from a stream of their own, so that the ids of everything
        # else made from a random seed stay what they were before repositories had ids.
        self._repository_id_source = IdGenerator(None if random_seed is None else f"{random_seed}/repositories")
        # Which Container Registry calls are served (emulator.state.stages): a setting, kept over reset.
        self.container_registry_stage = Stage(ACTIVE)
        self._clear()

    def _clear(self) -> None:
        for table in TABLES:
            table._open_table(self)

    def reset(self) -> None:
        """Forget everything: registries, images, operations (not their modes). O(1) for the caller."""
        with self._lock:
            garbage = (*(held for table in TABLES for held in table._table_contents(self)), self.log.clear())
            self._clear()
        REAPER.discard(garbage)

    def atomic(self) -> threading.RLock:
        """Hold this to make several calls one step that no request can see halfway."""
        return self._lock

    def _list(
        self,
        index: ScopedIndex,
        records: dict,
        scope: Scope,
        group_of: Callable[[str, Scope], Scope | None],
        *,
        names_in: Iterable[str] | None = None,
        names_not_in: Iterable[str] = (),
        order: str = "id",
        descending: bool = False,
        after: Cursor | None = None,
        limit: int = 100,
        named: str = "name",
        matching: Iterable[tuple[str, frozenset]] = (),
    ) -> tuple[list, Cursor | None]:
        """One page of ``index`` in ``scope``: (records, the cursor of the next page or None).

        ``names_in`` keeps only records with those names (their ``named`` attribute); ``names_not_in`` drops them;
        ``group_of(name, scope)`` is the scope holding the records of that name inside ``scope``
        (None: there are none there). ``after`` (a cursor this method returned) resumes strictly
        after the sort key it carries, whatever happened to that record since. ``matching``: (attribute,
        values) pairs a record must match each (one of the values), read from the record. Raises NotFound
        for an unknown registry, UnknownCursor for a cursor naming nothing the store knows.
        """
        with self._lock:
            self._check_scope(scope)
            conditions = [(attribute, values) for attribute, values in matching if values]
            keep = (
                (lambda record_id: all(getattr(records[record_id], a) in values for a, values in conditions))
                if conditions
                else None
            )
            page = partial(index.page, scope, order, descending=descending, after=after, limit=limit, keep=keep)
            if names_in is not None:
                groups = [group_of(name, scope) for name in names_in]
                ids, next_cursor = page(only=[group for group in groups if group is not None])
            else:
                excluded = {name for name in names_not_in if group_of(name, scope) is not None}
                ids, next_cursor = page(
                    leave_out=[group_of(name, scope) for name in excluded],
                    left_out=lambda record_id: getattr(records[record_id], named) in excluded,
                )
            return list(map(records.__getitem__, ids)), next_cursor

    def container_registry_refusal(self, changes: bool) -> tuple[str, str] | None:
        """(code, message) if the stage refuses a Container Registry call now (``changes``: it changes something)."""
        return self.container_registry_stage.refusal(changes, self.clock.now_ns())

    # ---- operations -------------------------------------------------------------

    @property
    def operations(self) -> dict[str, Operation]:
        """Every kept operation by id (the log's own dict: read it holding ``atomic()``)."""
        return self.log.operations

    @property
    def operation_modes(self) -> dict[str, Mode]:
        return self.log.modes

    def configure_operations(self, modes: dict[str, Mode]) -> None:
        """Set how long operations of each method take (see emulator.state.operation_modes)."""
        with self._lock:
            self.log.modes = dict(modes)

    def add_operation(self, operation: Operation) -> Operation:
        """Record an operation as it is (a seed's, or one a fault rule finished)."""
        with self._lock:
            return self.log.add(operation)

    def new_operation_id(self) -> str:
        """An id no kept operation has (a loaded state may hold ids this seeded stream makes again)."""
        with self._lock:
            return self._new_or_given_id(None, self.log.operations, "id")

    def start_operation(self, operation: Operation, method: str, error: tuple[str, str] | None = None) -> Operation:
        """Record an operation a call made; its action is done now or later by the method's mode
        (``error``: a fault rule's operation_error, with which it is done at once, nothing changed)."""
        with self._lock:
            return self.log.start(operation, method, error)

    def poll_operation(self, operation_id: str) -> Operation:
        """An operation as OperationService.Get sees it: a polls-mode one counts this call."""
        with self._lock:
            return self.log.poll(operation_id, self.clock.now_ns())

    def cancel_operation(self, operation_id: str) -> Operation:
        with self._lock:
            return self.log.cancel(operation_id, self.clock.now_ns())

    def operation_for_key(self, key: str) -> Operation | None:
        with self._lock:
            return self.log.for_key(key)

    def get_operation(self, operation_id: str) -> Operation:
        with self._lock:
            return self.log.get(operation_id)

    def advance(self) -> int:
        """Finish the delay-mode operations that are due by the clock, then run the lifecycle
        policies if their schedule says so, as one step of its own; how many operations finished.
        Called before a request is served and when the facade is asked, never inside another
        step, so no step sees an operation finish (or a policy run) halfway through it."""
        with self._lock:
            now = self.clock.now_ns()
            finished = self.log.advance(now)
            self._run_due_lifecycle_policies(now)
            return finished

    def _effects(self) -> dict[Action, Effect]:
        """What each pending-operation action does to the resources (see operation_log.Effect)."""
        effects = {Action.NONE: Effect()}
        for table in TABLES:
            effects.update(table._table_effects(self))
        return effects

    def folder_of_target(self, kind: str, value: str) -> str:
        """The folder of what a call acts on (catalogue.Target's kinds); NotFound if it is not there,
        so that an unknown id is NOT_FOUND before anyone's access is looked at."""
        with self._lock:
            if kind == "folder":  # a folder the store could not keep is INVALID_ARGUMENT, before access
                return check_id(value, "folder_id")
            if kind == "operation":
                return self.get_operation(value).folder_id
            if kind == "cloud":  # "": only a caller allowed every folder acts on a whole cloud
                check_id(value, "cloud_id")
                return ""
            for table in TABLES:
                finder = table._table_folders(self).get(kind)
                if finder is not None:
                    return finder(value)
            raise ValueError(f"no folder for a {kind!r}")

    def folder_of(self, scope: Scope) -> str:
        """The folder a List scope lies in; NotFound for an unknown registry; a folder id the store
        could not hold is INVALID_ARGUMENT (before any folder check, in every auth mode)."""
        with self._lock:
            if scope.kind in FOLDER_SCOPES.values():
                return check_id(scope.value, "folder_id")
            if scope.kind in ("registry", "repository"):  # a repository scope is its name: <registry_id>/<path>
                return self.registry_in(CONTAINER_REGISTRY_API, scope.value.partition("/")[0]).folder_id
            return self.folder_of_target(scope.kind, scope.value)

    # ---- internals --------------------------------------------------------------

    def _new_or_given_id(
        self, given: str | None, existing: dict, argument: str, source=None, prefix: str = REGISTRY_PREFIX
    ) -> str:
        if given is None:
            source = source or self.ids
            new = source.new_id(prefix)
            while new in existing:
                new = source.new_id(prefix)
            return new
        check_id(given, argument)
        if given in existing:
            raise ValueError(f"{argument}: {given!r} already exists")
        return given

    def _check_scope(self, scope: Scope) -> None:
        if scope.kind in ("registry", "repository"):  # Container Registry's scopes
            self.registry_in(CONTAINER_REGISTRY_API, scope.value.partition("/")[0])

    def _name_in_scope(self, name: str, scope: Scope) -> bool:
        registry_id = name.partition("/")[0]
        if scope.kind == "repository":
            return name == scope.value
        if scope.kind == "registry":
            return registry_id == scope.value
        registry = self.registries.get(registry_id)
        return registry is not None and registry.folder_id == scope.value
