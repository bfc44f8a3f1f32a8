"""In-memory state: folders -> registries -> repositories -> images, and operations.

Plain Python: no gRPC, no protobuf. Images are kept in a ScopedIndex (emulator.listing):
every scope a List can name (folder, registry, repository) keeps one sorted index per
order (id, name, created_at), so a page costs O(page size + log n) whatever the scope,
filter or order.
"""

from __future__ import annotations

import gc
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter

from emulator.errors import NotFound, shown
from emulator.ids import IdGenerator
from emulator.listing import ID_ORDER, Cursor, NameSerials, Scope, ScopedIndex, by_name_then_id, by_number_then_id
from emulator.records import Blob, Image, Operation, Registry, sum_of_sizes
from emulator.values import INT64_MAX, check_digest, check_id, check_size, check_timestamp

REPOSITORY_PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")  # the Docker tag grammar


@dataclass(slots=True)
class _Repository:
    """What makes tags and digests unique within a repository."""

    name: str
    path: str  # the name without "<registry_id>/"; its images share these two strings
    tags: dict[str, str] = field(default_factory=dict)  # tag -> image id
    digests: dict[str, str] = field(default_factory=dict)  # digest -> image id


IMAGE_ORDERS = ("id", "name", "created_at")  # what order_by may name, in this order


def now_ns() -> int:
    return time.time_ns()


DEFAULT_MAX_FINISHED_OPERATIONS = 10_000


_graveyard: queue.SimpleQueue = queue.SimpleQueue()
_reaper_lock = threading.Lock()
_reaper: threading.Thread | None = None


def _reap_forever() -> None:
    """Free discarded states a thousand entries at a time, letting other threads run between."""
    while True:
        containers = _graveyard.get()
        for container in containers:
            while container:
                for _ in range(min(1000, len(container))):
                    container.popitem()
                time.sleep(0)
        containers = container = None  # drop the last references before waiting again


def _discard(containers: tuple[dict, ...]) -> None:
    """Hand dicts to the reaper thread: freeing 100,000 images takes longer than a reset may."""
    global _reaper
    with _reaper_lock:
        if _reaper is None:
            _reaper = threading.Thread(target=_reap_forever, name="ycr-reaper", daemon=True)
            _reaper.start()
    _graveyard.put(containers)


class Store:
    """The emulator's whole state. Thread-safe: every public method holds one lock."""

    def __init__(self, seed: int | None = None, *, max_operations: int = DEFAULT_MAX_FINISHED_OPERATIONS):
        """``max_operations``: how many finished operations (and their idempotency
        keys) are kept; beyond it the oldest finished ones are forgotten. Pending ones never are."""
        if not isinstance(max_operations, int) or max_operations < 0:
            raise ValueError(f"max_operations: must be an integer >= 0, got {max_operations!r}")
        self._lock = threading.RLock()
        self.ids = IdGenerator(seed)
        self.max_operations = max_operations
        self._clear()

    def _clear(self) -> None:
        self.registries: dict[str, Registry] = {}
        self.images: dict[str, Image] = {}
        self.operations: dict[str, Operation] = {}
        self._image_index = ScopedIndex(
            {
                "id": ID_ORDER,
                "name": by_name_then_id("name", NameSerials()),
                "created_at": by_number_then_id("created_at_ns"),
            }
        )
        self._repositories: dict[str, _Repository] = {}  # by name
        self._idempotency: dict[str, str] = {}  # idempotency key -> operation id
        self._finished: deque[str] = deque()  # ids of finished operations, oldest first
        self._unindexed: dict[str, Image] | None = None  # added inside bulk(), indexed at its end

    def reset(self) -> None:
        """Forget everything: registries, images, operations. O(1) for the caller."""
        with self._lock:
            garbage = (self._image_index._lists, self._repositories, self.operations, self.images, self.registries)
            self._clear()
        _discard(garbage)

    # ---- registries -------------------------------------------------------------

    def add_registry(
        self,
        folder_id: str,
        *,
        id: str | None = None,
        name: str | None = None,
        created_at_ns: int | None = None,
        labels: dict[str, str] | None = None,
    ) -> Registry:
        """Add a registry; bad arguments raise ValueError naming the argument."""
        check_id(folder_id, "folder_id")
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        with self._lock:
            registry_id = self._new_or_given_id(id, self.registries, "id")
            registry = Registry(
                id=registry_id,
                folder_id=folder_id,
                name=name if name is not None else f"registry-{registry_id[-5:]}",
                created_at_ns=created_at_ns if created_at_ns is not None else now_ns(),
                labels=dict(labels or {}),
            )
            self.registries[registry_id] = registry
            return registry

    def delete_registry(self, registry_id: str) -> Registry:
        """Remove a registry that holds no images (ValueError otherwise)."""
        with self._lock:
            registry = self.get_registry(registry_id)
            if self._image_index.holds(Scope("registry", registry_id)):
                raise ValueError(f"registry_id: registry {registry_id} still holds images")
            del self.registries[registry_id]
            return registry

    def atomic(self) -> threading.RLock:
        """Hold this to make several calls one step that no request can see halfway."""
        return self._lock

    def get_registry(self, registry_id: str) -> Registry:
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise NotFound(f"Registry {shown(registry_id)} not found")
            return registry

    # ---- images -----------------------------------------------------------------

    def add_image(
        self,
        registry_id: str,
        repository: str,
        *,
        id: str | None = None,
        digest: str | None = None,
        tags: Iterable[str] = (),
        created_at_ns: int | None = None,
        compressed_size: int | None = None,
        config: Blob | None = None,
        layers: Iterable[Blob] | None = None,
    ) -> Image:
        """Add an image to ``<registry_id>/<repository>``.

        Absent fields are generated realistically. A tag that another image of the
        repository holds moves to the new image; a digest already in the repository
        is a ValueError (one image per repository and digest).
        """
        known = isinstance(repository, str) and f"{registry_id}/{repository}" in self._repositories
        if not known and not (isinstance(repository, str) and REPOSITORY_PATH.fullmatch(repository)):
            raise ValueError(f"repository: must match {REPOSITORY_PATH.pattern}, got {repository!r}")
        tags = list(dict.fromkeys(tags))
        for tag in tags:
            if not isinstance(tag, str) or not TAG_PATTERN.fullmatch(tag):
                raise ValueError(f"tags: {tag!r} is not a valid Docker tag")
        if digest is not None:
            check_digest(digest, "digest")
        if compressed_size is not None:
            check_size(compressed_size, "compressed_size")
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise ValueError(f"registry_id: no registry {registry_id!r}")
            image_id = self._new_or_given_id(id, self.images, "id")
            name = f"{registry_id}/{repository}"
            repo = self._repositories.get(name) or _Repository(name, repository)
            digest = digest or self.ids.new_digest()
            if digest in repo.digests:
                raise ValueError(f"digest: {name} already has an image with digest {digest}")
            layers = tuple(layers) if layers is not None else None
            if compressed_size is None and layers and sum_of_sizes(layers) > INT64_MAX:
                raise ValueError("layers: their sizes add up past 2^63-1; give compressed_size")
            image = Image(
                id=image_id,
                registry_id=registry_id,
                repository=repo.path,
                name=repo.name,
                digest=digest,
                compressed_size=compressed_size,
                config=config,
                layers=layers,
                tags=[],
                created_at_ns=created_at_ns if created_at_ns is not None else now_ns(),
            )
            self.images[image_id] = image
            self._repositories[name] = repo
            repo.digests[digest] = image_id
            self._move_tags(repo, image, tags)
            if self._unindexed is not None:
                self._unindexed[image.id] = image
                return image
            self._image_index.add(image, self._scopes_of(image, registry))
            return image

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Add many images as one step: their index entries are sorted in once at the end,
        which is far cheaper than inserting them one by one. Holds the lock throughout."""
        with self._lock:
            if self._unindexed is not None:  # already inside bulk()
                yield
                return
            self._unindexed = {}
            # Millions of new objects would set off the cyclic collector again and again;
            # none of them form cycles, so pause it for the load.
            collecting = gc.isenabled()
            gc.disable()
            try:
                yield
            finally:
                images, self._unindexed = self._unindexed, None
                try:
                    self._image_index.add_many(
                        list(images.values()),
                        lambda image: self._scopes_of(image, self.registries[image.registry_id]),
                        group_of=attrgetter("name"),
                    )
                finally:
                    if collecting:
                        gc.enable()

    def get_image(self, image_id: str) -> Image:
        with self._lock:
            image = self.images.get(image_id)
            if image is None:
                raise NotFound(f"Image {shown(image_id)} not found")
            return image

    def delete_image(self, image_id: str) -> Image:
        """Remove an image; unknown ids raise NotFound and change nothing."""
        with self._lock:
            image = self.get_image(image_id)
            registry = self.registries[image.registry_id]
            if self._unindexed is None or self._unindexed.pop(image_id, None) is None:
                self._image_index.remove(image, self._scopes_of(image, registry))
            repo = self._repositories[image.name]
            for tag in image.tags:
                del repo.tags[tag]
            del repo.digests[image.digest]
            del self.images[image_id]
            return image

    def list_images(
        self,
        scope: Scope,
        *,
        names_in: Iterable[str] | None = None,
        names_not_in: Iterable[str] = (),
        order: str = "id",
        descending: bool = False,
        after: Cursor | None = None,
        limit: int = 100,
    ) -> tuple[list[Image], Cursor | None]:
        """One page of images in ``scope``; returns (images, the cursor of the next page or None).

        ``names_in`` keeps only images with those names; ``names_not_in`` drops them.
        ``after`` (a cursor this method returned) resumes strictly after the sort key it
        carries, whatever happened to that image since. Raises NotFound for an unknown
        registry, UnknownCursor for a cursor naming nothing the store knows.
        """
        with self._lock:
            self._check_scope(scope)
            if names_in is not None:
                groups = [Scope("repository", name) for name in names_in if self._name_in_scope(name, scope)]
                ids, next_cursor = self._image_index.page(
                    scope, order, descending=descending, after=after, limit=limit, only=groups
                )
            else:
                excluded = {name for name in names_not_in if self._name_in_scope(name, scope)}
                ids, next_cursor = self._image_index.page(
                    scope,
                    order,
                    descending=descending,
                    after=after,
                    limit=limit,
                    leave_out=[Scope("repository", name) for name in excluded],
                    left_out=lambda image_id: self.images[image_id].name in excluded,
                )
            return list(map(self.images.__getitem__, ids)), next_cursor

    # ---- operations -------------------------------------------------------------

    def add_operation(self, operation: Operation) -> Operation:
        """Record an operation (and its idempotency key). Beyond ``max_operations``
        finished ones, the oldest finished operation is forgotten with its key."""
        with self._lock:
            self.operations[operation.id] = operation
            if operation.idempotency_key is not None:
                self._idempotency[operation.idempotency_key] = operation.id
            if operation.done:
                self._finished.append(operation.id)
                while len(self._finished) > self.max_operations:
                    self._forget_operation(self._finished.popleft())
            return operation

    def _forget_operation(self, operation_id: str) -> None:
        operation = self.operations.pop(operation_id)
        key = operation.idempotency_key
        if key is not None and self._idempotency.get(key) == operation_id:
            del self._idempotency[key]

    def operation_for_key(self, key: str) -> Operation | None:
        """The operation recorded under an idempotency key, if it is still kept."""
        with self._lock:
            operation_id = self._idempotency.get(key)
            return self.operations.get(operation_id) if operation_id else None

    def folder_of(self, scope: Scope) -> str:
        """The folder a List scope lies in; NotFound for an unknown registry."""
        with self._lock:
            if scope.kind == "folder":
                return scope.value
            return self.get_registry(scope.value.partition("/")[0]).folder_id

    def get_image_and_folder(self, image_id: str) -> tuple[Image, str]:
        """An image and the folder it lies in, read as one consistent step."""
        with self._lock:
            image = self.get_image(image_id)
            return image, self.registries[image.registry_id].folder_id

    def get_operation(self, operation_id: str) -> Operation:
        with self._lock:
            operation = self.operations.get(operation_id)
            if operation is None:
                raise NotFound(f"Operation {shown(operation_id)} not found")
            return operation

    # ---- internals --------------------------------------------------------------

    def _new_or_given_id(self, given: str | None, existing: dict, argument: str) -> str:
        if given is None:
            new = self.ids.new_id()
            while new in existing:
                new = self.ids.new_id()
            return new
        check_id(given, argument)
        if given in existing:
            raise ValueError(f"{argument}: {given!r} already exists")
        return given

    def _move_tags(self, repo: _Repository, image: Image, tags: list[str]) -> None:
        for tag in tags:
            holder = repo.tags.get(tag)
            if holder is not None and holder != image.id:
                previous = self.images[holder]
                previous.tags = [kept for kept in previous.tags if kept != tag]  # a new list: see Image.wire
            repo.tags[tag] = image.id
        image.tags = tags

    @staticmethod
    def _scopes_of(image: Image, registry: Registry) -> tuple[Scope, Scope, Scope]:
        return (
            Scope("folder", registry.folder_id),
            Scope("registry", registry.id),
            Scope("repository", image.name),
        )

    def _check_scope(self, scope: Scope) -> None:
        if scope.kind == "registry":
            self.get_registry(scope.value)
        elif scope.kind == "repository":
            self.get_registry(scope.value.partition("/")[0])

    def _name_in_scope(self, name: str, scope: Scope) -> bool:
        registry_id = name.partition("/")[0]
        if scope.kind == "repository":
            return name == scope.value
        if scope.kind == "registry":
            return registry_id == scope.value
        registry = self.registries.get(registry_id)
        return registry is not None and registry.folder_id == scope.value
