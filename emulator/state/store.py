"""In-memory state: folders -> registries -> repositories -> images, and operations.

Plain Python: no gRPC, no protobuf. Images are kept in a ScopedIndex (emulator.state.listing):
every scope a List can name (folder, registry, repository) keeps one sorted index per
single-field order (id, name, digest, created_at, last_modified), so a page costs
O(page size + log n) whatever the scope, filter or order; an order of several fields is
indexed per scope on its first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from operator import attrgetter
from typing import Any

from emulator.api.errors import AlreadyExists, FailedPrecondition, NotFound, shown
from emulator.api.ids import IdGenerator
from emulator.api.values import INT64_MAX, check_digest, check_id, check_size, check_timestamp
from emulator.state.clock import Clock
from emulator.state.collector import collector_paused
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
from emulator.state.operation_log import DEFAULT_MAX_FINISHED_OPERATIONS, Effect, OperationLog
from emulator.state.operation_modes import Mode
from emulator.state.reaper import REAPER
from emulator.state.records import (
    AccessBinding,
    Action,
    Blob,
    Image,
    IpPermission,
    Operation,
    Registry,
    Repository,
    sum_of_sizes,
)

REPOSITORY_PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")  # the Docker tag grammar


# What order_by may name, the id (the default, and what breaks ties) first. Each is one of the
# index's own orders; several fields together make an order built on first use (listing.py).
IMAGE_ORDERS = ("id", "name", "digest", "created_at", "last_modified")
REPOSITORY_ORDERS = ("id", "name")
MAX_ACCESS_BINDINGS = 1000  # per registry or repository (SetAccessBindingsRequest's own limit)
MAX_IP_PERMISSIONS = 1000  # per registry


class Store:
    """The emulator's whole state. Thread-safe: every public method holds one lock."""

    def __init__(
        self,
        seed: int | None = None,
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
        self.ids = IdGenerator(seed)
        # Repositories draw their ids from a stream of their own, so that the ids of everything
        # else made from a seed stay what they were before repositories had ids.
        self._repository_id_source = IdGenerator(None if seed is None else f"{seed}/repositories")
        self._clear()

    def _clear(self) -> None:
        self.registries: dict[str, Registry] = {}
        self.images: dict[str, Image] = {}
        names, digests = NameSerials(), NameSerials()
        self._image_index = ScopedIndex(
            {
                "id": ID_ORDER,
                "name": by_name_then_id("name", names),
                "digest": by_name_then_id("digest", digests),
                "created_at": by_number_then_id("created_at_ns"),
                "last_modified": by_number_then_id("last_modified_ns", shares="created_at"),
            },
            fields={
                "id": Field("id"),
                "name": Field("name", names),
                "digest": Field("digest", digests),
                "created_at": Field("created_at_ns"),
                "last_modified": Field("last_modified_ns"),
            },
            record_of=self.images.__getitem__,
        )
        self._repositories_by_name: dict[str, Repository] = {}  # by name
        self.repositories: dict[str, Repository] = {}  # by id
        # Registries by folder and by (folder, name); repositories by folder, registry and name.
        self._registry_index = ScopedIndex({"id": ID_ORDER})
        repository_names = NameSerials()
        self._repository_index = ScopedIndex(
            {"id": ID_ORDER, "name": by_name_then_id("name", repository_names)},
            fields={"id": Field("id"), "name": Field("name", repository_names)},
            record_of=self.repositories.__getitem__,
        )
        self._lists: dict[str, tuple[str, ...]] = {}  # image list id -> ids of the images it references
        self._referenced_by: dict[str, set[str]] = {}  # image id -> ids of the image lists referencing it
        self._unindexed: dict[str, Image] | None = None  # added inside bulk(), indexed at its end

    def reset(self) -> None:
        """Forget everything: registries, images, operations (not their modes). O(1) for the caller."""
        with self._lock:
            indexes = (self._image_index, self._repository_index, self._registry_index)
            garbage = (*(index.contents() for index in indexes), self._repositories_by_name, self.repositories)
            garbage += (self.log.clear(), self.images, self.registries)
            self._clear()
        REAPER.discard(garbage)

    # ---- registries -------------------------------------------------------------

    def add_registry(
        self,
        folder_id: str,
        *,
        id: str | None = None,
        name: str | None = None,
        created_at_ns: int | None = None,
        labels: dict[str, str] | None = None,
        status: str = "ACTIVE",
        unique_name: bool = False,
    ) -> Registry:
        """Add a registry; bad arguments raise ValueError naming the argument.
        ``unique_name``: ALREADY_EXISTS if the folder has a registry of that name (Create)."""
        check_id(folder_id, "folder_id")
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        with self._lock:
            registry_id = self._new_or_given_id(id, self.registries, "id")
            registry = Registry(
                id=registry_id,
                folder_id=folder_id,
                name=name if name is not None else f"registry-{registry_id[-5:]}",
                created_at_ns=created_at_ns if created_at_ns is not None else self.clock.now_ns(),
                labels=dict(labels or {}),
                status=status,
            )
            if unique_name:
                self._check_name_free(registry)
            self.registries[registry_id] = registry
            self._registry_index.add(registry, self._registry_scopes(registry))
            return registry

    def update_registry(self, registry_id: str, *, name: str | None = None, labels: dict | None = None) -> Registry:
        """Change a registry's name and/or labels (None: unchanged); a name another registry
        of the folder has is ALREADY_EXISTS."""
        with self._lock:
            registry = self.get_registry(registry_id)
            if name is not None and name != registry.name:
                if name:
                    self._check_name_free(Registry(registry.id, registry.folder_id, name, 0))
                self._registry_index.remove(registry, self._registry_scopes(registry))
                registry.name = name
                self._registry_index.add(registry, self._registry_scopes(registry))
            if labels is not None:
                registry.labels = dict(labels)
            return registry

    def delete_registry(self, registry_id: str, *, force: bool = False) -> Registry:
        """Remove a registry that holds no images (FAILED_PRECONDITION otherwise; ``force``:
        its images go first) and its empty repositories."""
        with self._lock:
            registry = self.get_registry(registry_id)
            inside, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
            if force:  # image lists first: the images they reference cannot go before them
                doomed = [i for r in inside for i in self.repositories[r].digests.values()]
                for image_id in sorted(doomed, key=lambda image_id: image_id not in self._lists):
                    self.delete_image(image_id)
                inside, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
            self._check_empty(registry_id, inside)
            for repository_id in inside:
                self._drop_repository(self.repositories[repository_id])
            self._registry_index.remove(registry, self._registry_scopes(registry))
            del self.registries[registry_id]
            return registry

    def _check_empty(self, registry_id: str, repository_ids: list[str] | None = None) -> None:
        if repository_ids is None:
            repository_ids, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
        held = sum(len(self.repositories[repository_id].digests) for repository_id in repository_ids)
        if held:
            raise FailedPrecondition(
                f"Registry {registry_id} is not empty: it holds {held} image{'s' * (held != 1)}; delete them first"
            )

    def set_registry_access(
        self,
        registry_id: str,
        *,
        access_bindings: Iterable[AccessBinding] | None = None,
        ip_permissions: Iterable[IpPermission] | None = None,
    ) -> Registry:
        """Replace a registry's access bindings and/or IP permissions (None: unchanged)."""
        with self._lock:
            registry = self.get_registry(registry_id)
            if access_bindings is not None:
                registry.access_bindings = _bounded(access_bindings, MAX_ACCESS_BINDINGS, "access bindings")
            if ip_permissions is not None:
                registry.ip_permissions = _bounded(ip_permissions, MAX_IP_PERMISSIONS, "IP permissions")
            return registry

    def _check_name_free(self, registry: Registry) -> None:
        if self._registry_index.holds(Scope("registry-name", (registry.folder_id, registry.name))):
            raise AlreadyExists(
                f"Registry with name {shown(registry.name)} already exists in folder {registry.folder_id}"
            )

    @staticmethod
    def _registry_scopes(registry: Registry) -> tuple[Scope, Scope]:
        return (Scope("folder", registry.folder_id), Scope("registry-name", (registry.folder_id, registry.name)))

    def atomic(self) -> threading.RLock:
        """Hold this to make several calls one step that no request can see halfway."""
        return self._lock

    def get_registry(self, registry_id: str) -> Registry:
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise NotFound(f"Registry {shown(registry_id)} not found")
            return registry

    # ---- repositories -----------------------------------------------------------

    def add_repository(self, registry_id: str, path: str, *, id: str | None = None, kept: bool = True) -> Repository:
        """The repository ``<registry_id>/<path>``, made if it does not exist (kept: it stays
        when empty, as an upserted one does). An existing one is returned (and kept if asked)."""
        if not (isinstance(path, str) and REPOSITORY_PATH.fullmatch(path)):
            raise ValueError(f"path: must match {REPOSITORY_PATH.pattern}, got {path!r}")
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise ValueError(f"registry_id: no registry {registry_id!r}")
            existing = self._repositories_by_name.get(f"{registry_id}/{path}")
            if existing is not None:
                if id is not None and id != existing.id:
                    raise ValueError(f"id: repository {existing.name} exists with id {existing.id}")
                existing.kept = existing.kept or kept
                return existing
            return self._new_repository(registry, path, id, kept)

    def get_repository(self, repository_id: str) -> Repository:
        with self._lock:
            repository = self.repositories.get(repository_id)
            if repository is None:
                raise NotFound(f"Repository {shown(repository_id)} not found")
            return repository

    def get_repository_by_name(self, name: str) -> Repository:
        with self._lock:
            repository = self._repositories_by_name.get(name)
            if repository is None:
                raise NotFound(f"Repository {shown(name)} not found")
            return repository

    def _check_repository_empty(self, repository_id: str) -> None:
        repository = self.get_repository(repository_id)
        if repository.digests:
            held = len(repository.digests)
            raise FailedPrecondition(
                f"Repository {repository.name} is not empty: it holds {held} image{'s' * (held != 1)}; "
                "delete them first"
            )

    def delete_repository(self, repository_id: str) -> Repository:
        """Remove a repository that holds no images (FAILED_PRECONDITION otherwise)."""
        with self._lock:
            self._check_repository_empty(repository_id)
            repository = self.repositories[repository_id]
            self._drop_repository(repository)
            return repository

    def set_repository_access(self, repository_id: str, access_bindings: Iterable[AccessBinding]) -> Repository:
        with self._lock:
            repository = self.get_repository(repository_id)
            repository.access_bindings = _bounded(access_bindings, MAX_ACCESS_BINDINGS, "access bindings")
            return repository

    def folder_of_repository(self, repository: Repository) -> str:
        with self._lock:
            return self.registries[repository.registry_id].folder_id

    def _new_repository(self, registry: Registry, path: str, id: str | None, kept: bool) -> Repository:
        repository_id = self._new_or_given_id(id, self.repositories, "id", self._repository_id_source)
        repository = Repository(repository_id, registry.id, f"{registry.id}/{path}", path, kept)
        self._repositories_by_name[repository.name] = repository
        self.repositories[repository_id] = repository
        self._repository_index.add(repository, self._repository_scopes(repository, registry))
        return repository

    def _drop_repository(self, repository: Repository) -> None:
        registry = self.registries[repository.registry_id]
        self._repository_index.remove(repository, self._repository_scopes(repository, registry))
        del self._repositories_by_name[repository.name]
        del self.repositories[repository.id]

    @staticmethod
    def _repository_scopes(repository: Repository, registry: Registry) -> tuple[Scope, Scope, Scope]:
        return (
            Scope("folder", registry.folder_id),
            Scope("registry", registry.id),
            Scope("repository", repository.name),
        )

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
        last_modified_ns: int | None = None,
    ) -> Image:
        """Add an image to ``<registry_id>/<repository>``.

        Absent fields are generated realistically. A tag that another image of the
        repository holds moves to the new image (and that image's last_modified becomes
        the new one's created_at, if later); a digest already in the repository is a
        ValueError (one image per repository and digest). ``last_modified_ns`` (default:
        created_at) is for state that had tag moves: it may not come before created_at.
        """
        known = isinstance(repository, str) and f"{registry_id}/{repository}" in self._repositories_by_name
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
        if last_modified_ns is not None:
            check_timestamp(last_modified_ns, "last_modified")
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise ValueError(f"registry_id: no registry {registry_id!r}")
            created_at_ns = created_at_ns if created_at_ns is not None else self.clock.now_ns()
            if last_modified_ns is not None and last_modified_ns < created_at_ns:
                raise ValueError("last_modified: must not be before created_at")
            image_id = self._new_or_given_id(id, self.images, "id")
            name = f"{registry_id}/{repository}"
            repo = self._repositories_by_name.get(name)
            digest = digest or self.ids.new_digest()
            if repo is not None and digest in repo.digests:
                raise ValueError(f"digest: {name} already has an image with digest {digest}")
            layers = tuple(layers) if layers is not None else None
            if compressed_size is None and layers and sum_of_sizes(layers) > INT64_MAX:
                raise ValueError("layers: their sizes add up past 2^63-1; give compressed_size")
            image = Image(
                id=image_id,
                registry_id=registry_id,
                repository=repo.path if repo else repository,
                name=repo.name if repo else name,
                digest=digest,
                compressed_size=compressed_size,
                config=config,
                layers=layers,
                tags=[],
                created_at_ns=created_at_ns,
                last_modified_ns=last_modified_ns,
            )
            if repo is None:  # made only once nothing can refuse the image: never left empty
                repo = self._new_repository(registry, repository, None, False)
                image.repository, image.name = repo.path, repo.name  # one copy of each string
            self.images[image_id] = image
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
            with collector_paused():  # millions of new objects, none in cycles
                try:
                    yield
                finally:
                    images, self._unindexed = self._unindexed, None
                    self._image_index.add_many(
                        list(images.values()),
                        lambda image: self._scopes_of(image, self.registries[image.registry_id]),
                        group_of=attrgetter("name"),
                    )

    def get_image(self, image_id: str) -> Image:
        with self._lock:
            image = self.images.get(image_id)
            if image is None:
                raise NotFound(f"Image {shown(image_id)} not found")
            return image

    def tag_image(self, image_id: str, tag: str) -> Image:
        """Put ``tag`` on an image, moving it off the image of its repository that holds it (as a
        push of that tag does); both images are modified now."""
        if not isinstance(tag, str) or not TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"tag: {tag!r} is not a valid Docker tag")
        with self._lock:
            image = self.get_image(image_id)
            if tag in image.tags:
                return image
            repo = self._repositories_by_name[image.name]
            now = self.clock.now_ns()
            holder = repo.tags.get(tag)
            if holder is not None:
                previous = self.images[holder]
                previous.tags = [kept for kept in previous.tags if kept != tag]  # a new list: see Image.wire
                self._modified(previous, max(now, previous.last_modified_ns))
            repo.tags[tag] = image.id
            image.tags = [*image.tags, tag]
            self._modified(image, max(now, image.last_modified_ns))
            return image

    def untag_image(self, image_id: str, tag: str) -> Image:
        """Take ``tag`` off an image (ValueError if it has no such tag); it is modified now."""
        with self._lock:
            image = self.get_image(image_id)
            if tag not in image.tags:
                raise ValueError(f"tag: image {image_id} has no tag {shown(tag)!r}")
            del self._repositories_by_name[image.name].tags[tag]
            image.tags = [kept for kept in image.tags if kept != tag]
            self._modified(image, max(self.clock.now_ns(), image.last_modified_ns))
            return image

    def set_manifests(self, image_id: str, digests: Iterable[str]) -> None:
        """Make an image an image list (a multi-arch manifest list) referencing the images of its
        repository with these digests: they cannot be deleted while it references them."""
        with self._lock:
            image = self.get_image(image_id)
            repo = self._repositories_by_name[image.name]
            digests = tuple(dict.fromkeys(digests))
            for digest in digests:
                check_digest(digest, "manifests")
                if digest not in repo.digests or digest == image.digest:
                    raise ValueError(f"manifests: {image.name} has no other image with digest {digest}")
            for child in self._lists.pop(image_id, ()):
                self._referenced_by[child].discard(image_id)
            children = tuple(repo.digests[digest] for digest in digests)
            if children:
                self._lists[image_id] = children
            for child in children:
                self._referenced_by.setdefault(child, set()).add(image_id)

    def manifests_of(self, image: Image) -> list[str]:
        """The digests an image list references (empty for a plain image)."""
        with self._lock:
            return [self.images[child].digest for child in self._lists.get(image.id, ())]

    def _check_image_deletable(self, image_id: str) -> None:
        self.get_image(image_id)
        lists = sorted(self._referenced_by.get(image_id, ()))
        if lists:
            raise FailedPrecondition(
                f"Image {image_id} is referenced by image list{'s' * (len(lists) > 1)} {', '.join(lists)}; "
                "delete the list first"
            )

    def delete_image(self, image_id: str) -> Image:
        """Remove an image; unknown ids raise NotFound and change nothing, as does an image an
        image list references (FAILED_PRECONDITION)."""
        with self._lock:
            self._check_image_deletable(image_id)
            image = self.images[image_id]
            for child in self._lists.pop(image_id, ()):
                referenced = self._referenced_by[child]
                referenced.discard(image_id)
                if not referenced:
                    del self._referenced_by[child]
            registry = self.registries[image.registry_id]
            if self._unindexed is None or self._unindexed.pop(image_id, None) is None:
                self._image_index.remove(image, self._scopes_of(image, registry))
            repo = self._repositories_by_name[image.name]
            for tag in image.tags:
                del repo.tags[tag]
            del repo.digests[image.digest]
            if not repo.digests and not repo.kept:
                self._drop_repository(repo)
            del self.images[image_id]
            return image

    def list_images(self, scope: Scope, **page: Any) -> tuple[list[Image], Cursor | None]:
        """One page of images in a folder, registry or repository ``scope``, as ``_list`` says."""
        return self._list(self._image_index, self.images, scope, self._repository_group, **page)

    def list_repositories(self, scope: Scope, **page: Any) -> tuple[list[Repository], Cursor | None]:
        """One page of repositories in a folder or registry ``scope``, as ``_list`` says."""
        return self._list(self._repository_index, self.repositories, scope, self._repository_group, **page)

    def list_registries(self, scope: Scope, **page: Any) -> tuple[list[Registry], Cursor | None]:
        """One page of registries in a folder ``scope`` (ordered by id), as ``_list`` says."""
        return self._list(
            self._registry_index,
            self.registries,
            scope,
            lambda name, scope: Scope("registry-name", (scope.value, name)),
            **page,
        )

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
    ) -> tuple[list, Cursor | None]:
        """One page of ``index`` in ``scope``: (records, the cursor of the next page or None).

        ``names_in`` keeps only records with those names; ``names_not_in`` drops them;
        ``group_of(name, scope)`` is the scope holding the records of that name inside ``scope``
        (None: there are none there). ``after`` (a cursor this method returned) resumes strictly
        after the sort key it carries, whatever happened to that record since. Raises NotFound
        for an unknown registry, UnknownCursor for a cursor naming nothing the store knows.
        """
        with self._lock:
            self._check_scope(scope)
            page = partial(index.page, scope, order, descending=descending, after=after, limit=limit)
            if names_in is not None:
                groups = [group_of(name, scope) for name in names_in]
                ids, next_cursor = page(only=[group for group in groups if group is not None])
            else:
                excluded = {name for name in names_not_in if group_of(name, scope) is not None}
                ids, next_cursor = page(
                    leave_out=[group_of(name, scope) for name in excluded],
                    left_out=lambda record_id: records[record_id].name in excluded,
                )
            return list(map(records.__getitem__, ids)), next_cursor

    def _repository_group(self, name: str, scope: Scope) -> Scope | None:
        """The scope of the images (or the repository) named ``name``, if inside ``scope``."""
        return Scope("repository", name) if self._name_in_scope(name, scope) else None

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

    def start_operation(self, operation: Operation, method: str) -> Operation:
        """Record an operation a call made; its action is done now or later by the method's mode."""
        with self._lock:
            return self.log.start(operation, method)

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
        """Finish the delay-mode operations that are due by the clock, as one step of its own;
        how many. Called before a request is served and when the facade is asked, never inside
        another step, so no step sees an operation finish halfway through it."""
        with self._lock:
            return self.log.advance(self.clock.now_ns())

    def _effects(self) -> dict[Action, Effect]:
        """What each pending-operation action does to the resources (see operation_log.Effect)."""

        def mark_registry(status: str) -> Callable[[str], None]:
            return lambda target: setattr(self.get_registry(target), "status", status)

        force_delete = partial(self.delete_registry, force=True)
        return {
            Action.NONE: Effect(),
            Action.DELETE_IMAGE: Effect(check=self._check_image_deletable, perform=self.delete_image),
            Action.DELETE_REGISTRY: Effect(
                self._check_empty, mark_registry("DELETING"), self.delete_registry, mark_registry("ACTIVE")
            ),
            Action.FORCE_DELETE_REGISTRY: Effect(
                self.get_registry, mark_registry("DELETING"), force_delete, mark_registry("ACTIVE")
            ),
            Action.CREATE_REGISTRY: Effect(
                self.get_registry,
                mark_registry("CREATING"),
                mark_registry("ACTIVE"),
                force_delete,
                unmark_on_failure=False,
            ),
            Action.DELETE_REPOSITORY: Effect(check=self._check_repository_empty, perform=self.delete_repository),
        }

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

    # ---- internals --------------------------------------------------------------

    def _new_or_given_id(self, given: str | None, existing: dict, argument: str, source=None) -> str:
        if given is None:
            source = source or self.ids
            new = source.new_id()
            while new in existing:
                new = source.new_id()
            return new
        check_id(given, argument)
        if given in existing:
            raise ValueError(f"{argument}: {given!r} already exists")
        return given

    def _move_tags(self, repo: Repository, image: Image, tags: list[str]) -> None:
        """Give ``image`` (a new image) its tags, moving each off the image holding it: that
        image was modified when ``image`` was pushed, so its last_modified is at least that."""
        for tag in tags:
            holder = repo.tags.get(tag)
            if holder is not None and holder != image.id:
                previous = self.images[holder]
                previous.tags = [kept for kept in previous.tags if kept != tag]  # a new list: see Image.wire
                if image.created_at_ns > previous.last_modified_ns:
                    self._modified(previous, image.created_at_ns)
            repo.tags[tag] = image.id
        image.tags = tags

    def _modified(self, image: Image, at_ns: int) -> None:
        """Set an image's last_modified, moving its index keys (unless it awaits bulk()'s indexing)."""

        def change(changed: Image) -> None:
            changed.last_modified_ns = at_ns

        if self._unindexed is not None and image.id in self._unindexed:
            change(image)
        else:
            self._image_index.update(image, self._scopes_of(image, self.registries[image.registry_id]), change)

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


def _bounded(items: Iterable, limit: int, what: str) -> tuple:
    """Items as a tuple of distinct items, in order; more than ``limit`` is FAILED_PRECONDITION."""
    kept = tuple(dict.fromkeys(items))
    if len(kept) > limit:
        raise FailedPrecondition(f"a resource holds at most {limit} {what}, this would make {len(kept)}")
    return kept
