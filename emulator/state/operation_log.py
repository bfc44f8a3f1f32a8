"""The operation log: every operation the emulator made or was seeded with, the pending ones and
when they are due, idempotency keys, and how many finished ones are kept.

Time moves only at explicit points: ``advance(now)`` finishes the delay-mode operations that are
due, and the store calls it before a request is served and when the facade is asked, never in
the middle of another step; a polls-mode operation finishes on its N-th ``poll``. What finishing
does to the resources is the store's: each Action has an ``Effect`` (see ``Effect``). Plain
Python, no locking of its own: the store calls it with its one lock held.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Mapping
from typing import NamedTuple

from emulator.api.catalogue import EVERY_METHOD
from emulator.api.errors import ApiError, FailedPrecondition, OperationFailed, found, shown
from emulator.state.operation_modes import IMMEDIATE, Mode
from emulator.state.records import Action, Operation, Pending

DEFAULT_MAX_FINISHED_OPERATIONS = 10_000


class Effect(NamedTuple):
    """What an Action does to its target id: ``check`` runs at the call (a refusal records nothing),
    ``mark`` while it pends, ``perform`` when it is done (an ApiError it raises becomes the
    operation's error), ``unmark`` when it is cancelled, or when ``perform`` fails and
    ``unmark_on_failure`` says so (a failed create has nothing to put back)."""

    check: Callable[[str], object] | None = None
    mark: Callable[[str], object] | None = None
    perform: Callable[[str], object] | None = None
    unmark: Callable[[str], object] | None = None
    unmark_on_failure: bool = True


class OperationLog:
    def __init__(self, effects: Mapping[Action, Effect], *, max_finished: int = DEFAULT_MAX_FINISHED_OPERATIONS):
        """``effects``: what each Action does; ``max_finished``: how many finished operations (and
        their idempotency keys) are kept; beyond it the oldest finished ones are forgotten. Pending
        ones never are."""
        if not isinstance(max_finished, int) or isinstance(max_finished, bool) or max_finished < 0:
            raise ValueError(f"max_operations: must be an integer >= 0, got {max_finished!r}")
        missing = set(Action) - set(effects)
        if missing:
            raise ValueError(f"effects: none given for {sorted(action.name for action in missing)}")
        self._effects = dict(effects)
        self.max_finished = max_finished
        self.modes: dict[str, Mode] = {}  # method (or "*") -> mode; none: immediate
        self.clear()

    def clear(self) -> dict[str, Operation]:
        """Forget every operation; returns the dict that held them (for the caller to free)."""
        dropped = getattr(self, "operations", {})
        self.operations: dict[str, Operation] = {}
        self._idempotency: dict[str, str] = {}  # idempotency key -> operation id
        self._pending: dict[str, Operation] = {}  # operations not done yet, by id
        self._due: list[tuple[int, str]] = []  # heap of (due_ns, operation id) of delay-mode ones
        # (kind, id) of a resource -> the pending operation creating or deleting it: one at a time
        self._busy: dict[tuple[str, str], str] = {}
        self._finished: deque[str] = deque()  # ids of finished operations, oldest first
        return dropped

    # ---- reading ---------------------------------------------------------------------

    def get(self, operation_id: str) -> Operation:
        return found(self.operations.get(operation_id), "Operation", operation_id)

    def for_key(self, key: str) -> Operation | None:
        """The operation recorded under an idempotency key, if it is still kept."""
        operation_id = self._idempotency.get(key)
        return self.operations.get(operation_id) if operation_id else None

    def holding(self, kind: str, target: str) -> str | None:
        """The pending operation creating or deleting this resource, if any."""
        return self._busy.get((kind, target))

    def mode_of(self, method: str) -> Mode:
        return self.modes.get(method) or self.modes.get(EVERY_METHOD) or IMMEDIATE

    # ---- recording -------------------------------------------------------------------

    def add(self, operation: Operation) -> Operation:
        """Record an operation as it is (done, or pending with its due time or polls left)."""
        self.operations[operation.id] = operation
        if operation.idempotency_key is not None:
            self._idempotency[operation.idempotency_key] = operation.id
        if operation.done:
            self._remember_finished(operation.id)
        elif operation.pending is not None:  # (a seed's undone operation without one never finishes)
            work = operation.pending
            self._pending[operation.id] = operation
            if work.due_ns is not None:
                heapq.heappush(self._due, (work.due_ns, operation.id))
            if work.action is not Action.NONE:
                self._busy[(work.action.kind, work.target)] = operation.id
        return operation

    def start(self, operation: Operation, method: str, error: tuple[str, str] | None = None) -> Operation:
        """Record an operation a call made, its ``pending`` action (if any) done now or later by the
        method's mode. The action's check runs now either way: a refused call records nothing. A
        resource a pending operation is creating or deleting takes no other such action meanwhile
        (so no completion overwrites another's mark, and a Cancel has its resource to take back).
        ``error`` (a fault rule's operation_error): after the same checks, the operation is done
        with it and changes nothing."""
        work = operation.pending
        action = work.action if work else Action.NONE
        effect = self._effects[action]
        busy = self._busy.get((action.kind, work.target)) if action is not Action.NONE else None
        if busy is not None:
            verb = "deleted" if self._pending[busy].pending.action.deletes else "created"
            raise FailedPrecondition(
                f"{action.kind} {shown(work.target)} is being {verb} by operation {busy}; "
                "wait for it to be done, or cancel it"
            )
        if error is not None and work is not None:  # a fault's operation_error: checked as ever, then nothing done
            if effect.check is not None:
                effect.check(work.target)
            if effect.unmark is not None and effect.unmark_on_failure:  # as a failed perform would leave it
                effect.unmark(work.target)
            operation.pending, operation.done, operation.error = None, True, error
            return self.add(operation)
        mode = self.mode_of(method)
        if mode.kind == "immediate":
            failure = None
            if effect.perform is not None:
                try:
                    effect.perform(work.target)
                except OperationFailed as failed:  # the call succeeds; its operation carries the error
                    failure = (failed.code, failed.message)
            operation.pending, operation.done, operation.error = None, True, failure
            return self.add(operation)
        if effect.check is not None:
            effect.check(work.target)
        if work is None:
            work = operation.pending = Pending(Action.NONE, "")
        if effect.mark is not None:
            effect.mark(work.target)
        operation.done = False
        if mode.kind == "polls":
            work.polls_left = work.polls_total = mode.value
        else:
            work.due_ns = operation.created_at_ns + mode.value * 1_000_000
        return self.add(operation)

    # ---- moving on -------------------------------------------------------------------

    def poll(self, operation_id: str, now_ns: int) -> Operation:
        """An operation as OperationService.Get sees it: a polls-mode one counts this call."""
        operation = self.get(operation_id)
        work = operation.pending
        if work is not None and work.polls_left is not None:
            work.polls_left -= 1
            if work.polls_left <= 0:
                self._complete(operation, now_ns)
        return operation

    def advance(self, now_ns: int) -> int:
        """Finish the delay-mode operations due by ``now_ns``, oldest due first; how many."""
        finished = 0
        while self._due and self._due[0][0] <= now_ns:
            _, operation_id = heapq.heappop(self._due)
            operation = self._pending.get(operation_id)
            if operation is not None and operation.pending is not None and operation.pending.due_ns is not None:
                self._complete(operation, now_ns)
                finished += 1
        return finished

    def cancel(self, operation_id: str, now_ns: int) -> Operation:
        """Cancel a pending operation whose change is still to come: done, with error CANCELLED, its
        change never made. Any other is past cancelling (done, one whose change was made when it
        was called, one loaded to never finish) and is answered as it is: the API design guide's
        Cancel is best effort and answers the operation's current status."""
        operation = self.get(operation_id)
        work = operation.pending
        if work is None or work.action is Action.NONE:
            return operation
        unmark = self._effects[work.action].unmark
        if unmark is not None:
            try:
                unmark(work.target)
            except ApiError:
                pass  # what it would take back is gone already (e.g. deleted through the Python API)
        if work.due_ns is not None and (work.due_ns, operation.id) in self._due:  # its timer goes now
            self._due.remove((work.due_ns, operation.id))
            heapq.heapify(self._due)
        self._finish(operation, ("CANCELLED", "Operation cancelled"), now_ns)
        return operation

    def _complete(self, operation: Operation, now_ns: int) -> None:
        """Do a pending operation's action; an error it meets becomes the operation's error."""
        work = operation.pending
        effect = self._effects[work.action]
        error = None
        try:
            if effect.perform is not None:
                effect.perform(work.target)
        except ApiError as problem:  # e.g. an image added to a registry being deleted
            error = (problem.code, problem.message)
            if effect.unmark is not None and effect.unmark_on_failure:
                try:
                    effect.unmark(work.target)
                except ApiError:
                    pass  # the resource is gone: nothing to put back
        self._finish(operation, error, now_ns)

    def _finish(self, operation: Operation, error: tuple[str, str] | None, now_ns: int) -> None:
        work = operation.pending
        if work.action is not Action.NONE and self._busy.get((work.action.kind, work.target)) == operation.id:
            del self._busy[(work.action.kind, work.target)]
        del self._pending[operation.id]
        operation.pending, operation.done, operation.error = None, True, error
        operation.modified_at_ns = now_ns
        self._remember_finished(operation.id)

    def _remember_finished(self, operation_id: str) -> None:
        self._finished.append(operation_id)
        while len(self._finished) > self.max_finished:
            self._forget(self._finished.popleft())

    def _forget(self, operation_id: str) -> None:
        operation = self.operations.pop(operation_id)
        key = operation.idempotency_key
        if key is not None and self._idempotency.get(key) == operation_id:
            del self._idempotency[key]
