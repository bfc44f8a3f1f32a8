"""The operation engine against a plain model (issue #20): a Hypothesis state machine drives an
emulator through the wire (registry Create, Delete and ForceDelete, image Delete, polls of
OperationService.Get, Cancel, repeats with an idempotency key), adds images and image lists in
Python, switches operation modes (immediate, polls:N, delay:MS), moves the clock, and at any step
exports the state and carries on in a new emulator loaded from it. After every step the
emulator's registries (and their status), images and operations (done, error code) are what a
model of a few dozen lines says they should be.

The model is the README's rules, written once more on plain dicts: a resource a pending operation
creates or deletes takes no other such operation; an image a list references cannot be deleted;
a registry that holds images cannot be deleted (ForceDelete takes them, lists first); a pending
operation's checks run at the call, and when it is done its change may meet an error (the image is
gone, or referenced now; the registry holds images now); Cancel takes a Create back and puts a
DELETING registry back to ACTIVE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import grpc
from google.rpc import code_pb2
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from emulator import Emulator
from emulator.state.clock import Clock

FOLDER = "b1gmachine0000000000"
START = datetime(2026, 12, 1, tzinfo=timezone.utc)
METHODS = ("ImageService/Delete", "RegistryService/Delete", "RegistryService/ForceDelete", "RegistryService/Create")
MODES = st.sampled_from(["immediate", "polls:1", "polls:2", "polls:3", "delay:1000", "delay:2500"])
OK = "OK"


@dataclass
class Op:
    action: str  # delete_image, delete_registry, force_delete_registry, create_registry
    target: str
    done: bool = False
    error: str | None = None  # a status code name
    polls_left: int | None = None
    due_ns: int | None = None


def _pick(data, choices: list, other):
    """One of ``choices`` (in the order they were made: the same steps draw alike), or now and
    then (and when there are none) ``other``."""
    if choices and data.draw(st.integers(0, 9)):
        return data.draw(st.sampled_from(choices))
    return other


class Model:
    """What the emulator should hold, on plain dicts."""

    def __init__(self):
        self.registries: dict[str, str] = {}  # id -> status
        self.images: dict[str, tuple[str, str, str]] = {}  # id -> (registry id, repository, digest)
        self.lists: dict[str, set[str]] = {}  # list image id -> ids of the images it references
        self.ops: dict[str, Op] = {}
        self.modes: dict[str, str] = {}
        self.now_ns = int(START.timestamp()) * 1_000_000_000

    def kind_of(self, action: str) -> str:
        return "image" if action == "delete_image" else "registry"

    def busy(self, kind: str, target: str) -> bool:
        return any(not op.done and self.kind_of(op.action) == kind and op.target == target for op in self.ops.values())

    def referenced(self, image_id: str) -> bool:
        return any(image_id in children for children in self.lists.values())

    def images_of(self, registry_id: str) -> list[str]:
        return [image_id for image_id, (owner, _, _) in self.images.items() if owner == registry_id]

    def remove_image(self, image_id: str) -> None:
        del self.images[image_id]
        self.lists.pop(image_id, None)

    def remove_registry(self, registry_id: str) -> None:
        for image_id in self.images_of(registry_id):
            self.remove_image(image_id)
        del self.registries[registry_id]

    # ---- finishing -----------------------------------------------------------------------------

    def complete(self, op: Op) -> None:
        """The change of a pending operation, made now; the error it meets, if any."""
        error = None
        if op.action == "delete_image":
            if op.target not in self.images:
                error = "NOT_FOUND"
            elif self.referenced(op.target):
                error = "FAILED_PRECONDITION"
            else:
                self.remove_image(op.target)
        elif op.action in ("delete_registry", "force_delete_registry"):
            if op.target not in self.registries:
                error = "NOT_FOUND"
            elif op.action == "delete_registry" and self.images_of(op.target):
                error = "FAILED_PRECONDITION"
                self.registries[op.target] = "ACTIVE"
            else:
                self.remove_registry(op.target)
        elif op.target in self.registries:  # create_registry
            self.registries[op.target] = "ACTIVE"
        else:
            error = "NOT_FOUND"
        op.done, op.error, op.polls_left, op.due_ns = True, error, None, None

    def advance(self, seconds: float, ids_by_due: list[str]) -> None:
        self.now_ns += int(seconds * 1_000_000_000)
        for op_id in ids_by_due:
            op = self.ops[op_id]
            if not op.done and op.due_ns is not None and op.due_ns <= self.now_ns:
                self.complete(op)

    def due_order(self) -> list[str]:
        """Pending delay-mode operations in the order the emulator finishes them: due time, then id."""
        pending = [(op.due_ns, op_id) for op_id, op in self.ops.items() if not op.done and op.due_ns is not None]
        return [op_id for _, op_id in sorted(pending)]


class OperationMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.model = Model()
        self.emulator: Emulator | None = None
        self.keyed: list[tuple[bytes, str, str]] = []  # (request, key, operation id) of keyed image Deletes
        self.counter = 0

    # ---- the emulator, and a new one from its state ----------------------------------------------

    def _connect(self, emulator: Emulator) -> None:
        self.emulator = emulator.start()
        self.channel = emulator.channel()
        self.images_stub = ImageServiceStub(self.channel)
        self.registries_stub = RegistryServiceStub(self.channel)
        self.operations_stub = OperationServiceStub(self.channel)

    @initialize(modes=st.fixed_dictionaries({method: MODES for method in METHODS}))
    def start(self, modes):
        """Two registries of three images each and an empty one, and a mode for each method."""
        self._connect(Emulator(clock=Clock(START), random_seed=0))  # seeded ids: the same steps draw the same
        for held in (("app", "app", "web"), ("app", "app", "web"), ()):
            registry = self.emulator.add_registry(FOLDER)
            self.model.registries[registry.id] = "ACTIVE"
            for repository in held:
                self.counter += 1
                digest = f"sha256:{self.counter:064x}"
                image = self.emulator.add_image(registry.id, repository, digest=digest)
                self.model.images[image.id] = (registry.id, repository, digest)
        self.model.modes = dict(modes)
        self.emulator.configure_operations(modes)

    def teardown(self):
        if self.emulator is not None:
            self.channel.close()
            self.emulator.stop()

    @rule()
    def reload_from_exported_state(self):
        """A state export at any step, loaded by a new emulator whose clock stands where this one's does."""
        state = self.emulator.state()
        now = self.emulator.clock.now_ns()
        self.channel.close()
        self.emulator.stop()
        fresh = Emulator(clock=Clock(now), random_seed=1)
        fresh.load_seed(state)
        self._connect(fresh)

    # ---- calls ------------------------------------------------------------------------------------

    def _call(self, stub, request, metadata=()) -> tuple[str, object]:
        try:
            return OK, stub(request, metadata=metadata)
        except grpc.RpcError as error:
            return error.code().name, error.details()

    def _started(self, operation, action: str, target: str) -> Op:
        """The model's record of an operation the emulator answered OK for, by the method's mode."""
        method = {
            "delete_image": "ImageService/Delete",
            "delete_registry": "RegistryService/Delete",
            "force_delete_registry": "RegistryService/ForceDelete",
            "create_registry": "RegistryService/Create",
        }[action]
        mode = self.model.modes.get(method, "immediate")
        op = self.model.ops[operation.id] = Op(action, target)
        if mode == "immediate":
            self.model.complete(op)
            assert op.error is None, op  # an immediate change the checks allowed cannot fail
        else:
            kind, _, value = mode.partition(":")
            if kind == "polls":
                op.polls_left = int(value)
            else:
                op.due_ns = self.model.now_ns + int(value) * 1_000_000
            if action == "create_registry":
                self.model.registries[target] = "CREATING"
            elif action != "delete_image":
                self.model.registries[target] = "DELETING"
        return op

    @rule(method=st.sampled_from(METHODS), mode=MODES)
    def set_mode(self, method, mode):
        self.model.modes[method] = mode
        self.emulator.configure_operations({**self.emulator.operation_modes, method: mode})

    @precondition(lambda self: len(self.model.registries) < 5)
    @rule()
    def create_registry(self):
        code, answer = self._call(self.registries_stub.Create, registry_pb.CreateRegistryRequest(folder_id=FOLDER))
        assert code == OK, answer
        metadata = registry_pb.CreateRegistryMetadata()
        answer.metadata.Unpack(metadata)
        self.model.registries[metadata.registry_id] = "ACTIVE"  # made at the call: CREATING while it pends
        self._started(answer, "create_registry", metadata.registry_id)
        assert answer.done == self.model.ops[answer.id].done

    @rule(data=st.data(), repository=st.sampled_from(["app", "web"]), as_list=st.booleans())
    def add_image(self, data, repository, as_list):
        if not self.model.registries:
            return
        changing = [registry_id for registry_id, status in self.model.registries.items() if status != "ACTIVE"]
        registry_id = _pick(data, changing, None) or data.draw(st.sampled_from(list(self.model.registries)))
        siblings = [
            image_id
            for image_id, (owner, path, _) in self.model.images.items()
            if owner == registry_id and path == repository
        ]
        children = (
            data.draw(st.lists(st.sampled_from(siblings), max_size=2, unique=True)) if as_list and siblings else []
        )
        self.counter += 1
        digest = f"sha256:{self.counter:064x}"
        manifests = [self.model.images[child][2] for child in children]
        image = self.emulator.add_image(registry_id, repository, digest=digest, manifests=manifests or None)
        self.model.images[image.id] = (registry_id, repository, digest)
        if children:
            self.model.lists[image.id] = set(children)

    @rule(data=st.data(), keyed=st.booleans())
    def delete_image(self, data, keyed):
        image_id = _pick(data, list(self.model.images), "crpnosuchimage000000")
        request = image_pb.DeleteImageRequest(image_id=image_id)
        self.counter += 1
        key = f"key-{self.counter}"
        code, answer = self._call(self.images_stub.Delete, request, (("idempotency-key", key),) if keyed else ())
        model = self.model
        if image_id not in model.images:
            expected = "NOT_FOUND"
        elif model.busy("image", image_id) or model.referenced(image_id):
            expected = "FAILED_PRECONDITION"
        else:
            expected = OK
        assert code == expected, (code, answer)
        if code == OK:
            self._started(answer, "delete_image", image_id)
            if keyed:
                self.keyed.append((request.SerializeToString(), key, answer.id))

    @rule(data=st.data(), force=st.booleans())
    def delete_registry(self, data, force):
        registry_id = _pick(data, list(self.model.registries), "crpnosuchregistry000")
        stub = self.registries_stub.ForceDelete if force else self.registries_stub.Delete
        code, answer = self._call(stub, registry_pb.DeleteRegistryRequest(registry_id=registry_id))
        model = self.model
        if registry_id not in model.registries:
            expected = "NOT_FOUND"
        elif model.busy("registry", registry_id) or (not force and model.images_of(registry_id)):
            expected = "FAILED_PRECONDITION"
        else:
            expected = OK
        assert code == expected, (code, answer, force)
        if code == OK:
            self._started(answer, "force_delete_registry" if force else "delete_registry", registry_id)

    @rule(data=st.data())
    def poll(self, data):
        if not self.model.ops:
            return
        op_id = self._an_operation(data)
        code, answer = self._call(self.operations_stub.Get, operation_pb.GetOperationRequest(operation_id=op_id))
        assert code == OK, answer
        op = self.model.ops[op_id]
        if not op.done and op.polls_left is not None:
            op.polls_left -= 1
            if op.polls_left == 0:
                self.model.complete(op)
        assert answer.done == op.done

    @rule(data=st.data())
    def cancel(self, data):
        if not self.model.ops:
            return
        op_id = self._an_operation(data)
        code, answer = self._call(self.operations_stub.Cancel, operation_pb.CancelOperationRequest(operation_id=op_id))
        op = self.model.ops[op_id]
        assert code == OK, answer
        if op.done:  # past cancelling: answered as it is
            error = code_pb2.Code.Value(op.error) if op.error else code_pb2.OK
            assert answer.done and answer.error.code == error, (answer, op.error)
            return
        if op.action == "create_registry" and op.target in self.model.registries:
            self.model.remove_registry(op.target)  # taken back, with what was added to it meanwhile
        elif op.action != "delete_image" and op.target in self.model.registries:
            self.model.registries[op.target] = "ACTIVE"
        op.done, op.error, op.polls_left, op.due_ns = True, "CANCELLED", None, None

    def _an_operation(self, data) -> str:
        """Mostly a pending operation (the interesting ones), sometimes any."""
        pending = [op_id for op_id, op in self.model.ops.items() if not op.done]
        return _pick(data, pending, None) or data.draw(st.sampled_from(list(self.model.ops)))

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
    def advance_time(self, seconds):
        order = self.model.due_order()
        self.emulator.advance_time(seconds)
        self.model.advance(seconds, order)

    @rule(data=st.data())
    def repeat_with_its_key(self, data):
        """A repeat of a keyed Delete answers its first operation, as it stands, and changes nothing."""
        if not self.keyed:
            return
        request, key, op_id = data.draw(st.sampled_from(self.keyed))
        code, answer = self._call(
            self.images_stub.Delete, image_pb.DeleteImageRequest.FromString(request), (("idempotency-key", key),)
        )
        assert code == OK and answer.id == op_id, (code, answer)
        assert answer.done == self.model.ops[op_id].done

    # ---- what must hold after every step ------------------------------------------------------

    @invariant()
    def the_emulator_holds_what_the_model_says(self):
        if self.emulator is None:
            return
        registries = {registry_id: registry.status for registry_id, registry in self.emulator.registries.items()}
        assert registries == self.model.registries
        assert set(self.emulator.images) == set(self.model.images)
        operations = self.emulator.operations
        for op_id, op in self.model.ops.items():
            held = operations[op_id]
            assert (held.done, held.error[0] if held.error else None) == (op.done, op.error), (op_id, op, held)


OperationMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_the_operation_engine_follows_its_model = OperationMachine.TestCase
