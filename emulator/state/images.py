"""The images: each in a repository, its tags moving between the images of that repository as
pushes move them, image lists referencing other images, and bulk loading that indexes once at
the end. Images live in a ScopedIndex (emulator.state.listing): every scope a List can name
(folder, registry, repository) keeps one sorted index per single-field order, so a page costs
O(page size + log n) whatever the scope, filter or order. A part of the Store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from emulator.api.errors import FailedPrecondition, NotFound, found, shown
from emulator.api.values import INT64_MAX, check_digest, check_size, check_timestamp
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
    scopes_in,
)
from emulator.state.operation_log import Effect
from emulator.state.records import (
    CONTAINER_REGISTRY_API,
    FOLDER_SCOPES,
    Action,
    Blob,
    Image,
    Registry,
    Repository,
    sum_of_sizes,
)
from emulator.state.repositories import REPOSITORY_PATH, check_repository_name

TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")  # the Docker tag grammar
# What order_by may name, the id (the default, and what breaks ties) first. Each is one of the
# index's own orders; several fields together make an order built on first use (listing.py).
IMAGE_ORDERS = ("id", "name", "digest", "created_at", "last_modified")


class ImageTable:
    """Images by id, indexed by folder, registry and repository in every single-field order."""

    def _open_table(self) -> None:
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
        self._lists: dict[str, tuple[str, ...]] = {}  # image list id -> ids of the images it references
        self._referenced_by: dict[str, set[str]] = {}  # image id -> ids of the image lists referencing it
        self._unindexed: dict[str, Image] | None = None  # added inside bulk(), indexed at its end

    def _table_contents(self) -> tuple:
        return self.images, self._image_index.contents(), self._lists, self._referenced_by

    def _table_effects(self) -> dict[Action, Effect]:
        return {Action.DELETE_IMAGE: Effect(check=self._check_image_deletable, perform=self.delete_image)}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {"image": lambda image_id: self.get_image_and_folder(image_id)[1]}

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
        if not known:
            if not (isinstance(repository, str) and REPOSITORY_PATH.fullmatch(repository)):
                raise ValueError(f"repository: must match {REPOSITORY_PATH.pattern}, got {shown(repository)!r}")
            check_repository_name(registry_id, repository, "repository")
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
            if registry.kind not in (None, "DOCKER"):
                raise ValueError(f"registry_id: {registry_id} is a {registry.kind} registry: it holds no Docker images")
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
            return found(self.images.get(image_id), "Image", image_id)

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
                self._forget_artifacts_of(previous, [tag], untagged=False)
                self._modified(previous, max(now, previous.last_modified_ns))
            repo.tags[tag] = image.id
            if not image.tags:  # its untagged artifact is gone: a tag names it now
                self._forget_artifacts_of(image, [], untagged=True)
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
            self._forget_artifacts_of(image, [tag], untagged=False)
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
            children = tuple(repo.digests[digest] for digest in digests)
            if self._reaches(children, image_id):
                raise ValueError(
                    f"manifests: {image.name}@{image.digest} would reference itself through them, a cycle of image "
                    "lists (a list's digest hashes its content, so no registry can hold one)"
                )
            for child in self._lists.pop(image_id, ()):
                self._referenced_by[child].discard(image_id)
            if children:
                self._lists[image_id] = children
            for child in children:
                self._referenced_by.setdefault(child, set()).add(image_id)

    def _reaches(self, starts: Iterable[str], target: str) -> bool:
        """Whether ``target`` is one of ``starts`` or an image they reference, however indirectly."""
        pending, seen = list(starts), set()
        while pending:
            current = pending.pop()
            if current == target:
                return True
            if current not in seen:
                seen.add(current)
                pending.extend(self._lists.get(current, ()))
        return False

    def delete_images(self, image_ids: Iterable[str]) -> None:
        """Remove many images as one step, each image list before the images it references (any
        depth), so none is refused for being referenced by another of them. An image a list
        outside them references is FAILED_PRECONDITION, and then nothing is removed."""
        with self._lock:
            doomed = dict.fromkeys(image_ids)
            referrers = {i: sum(1 for r in self._referenced_by.get(i, ()) if r in doomed) for i in doomed}
            ready = [i for i, count in referrers.items() if count == 0]
            order = []
            while ready:
                image_id = ready.pop()
                order.append(image_id)
                for child in self._lists.get(image_id, ()):
                    if child in referrers:
                        referrers[child] -= 1
                        if referrers[child] == 0:
                            ready.append(child)
            for image_id in doomed:  # unknown, or referenced from outside them: refused before anything goes
                referrers = self._referenced_by.get(image_id, ())
                if image_id not in self.images or any(referrer not in doomed for referrer in referrers):
                    self._check_image_deletable(image_id)
            if len(order) < len(doomed):  # set_manifests refuses cycles: never, unless state was forced
                raise FailedPrecondition("the image lists among these images reference each other in a cycle")
            for image_id in order:
                self.delete_image(image_id)

    def images_listed_by(self, image: Image) -> list[Image]:
        """The images an image list references (none for a plain image)."""
        with self._lock:
            return [self.images[child] for child in self._lists.get(image.id, ())]

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
            self._forget_artifacts_of(image, image.tags, untagged=True)
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

    def get_image_and_folder(self, image_id: str) -> tuple[Image, str]:
        """An image and the folder it lies in, read as one consistent step, for Container Registry's
        calls: NOT_FOUND if it is in a Cloud Registry registry (seen as an artifact there)."""
        with self._lock:
            image = self.get_image(image_id)
            registry = self.registries[image.registry_id]
            if registry.api != CONTAINER_REGISTRY_API:
                raise NotFound(f"Image {image_id} not found")
            return image, registry.folder_id

    def _move_tags(self, repo: Repository, image: Image, tags: list[str]) -> None:
        """Give ``image`` (a new image) its tags, moving each off the image holding it: that
        image was modified when ``image`` was pushed, so its last_modified is at least that."""
        for tag in tags:
            holder = repo.tags.get(tag)
            if holder is not None and holder != image.id:
                previous = self.images[holder]
                previous.tags = [kept for kept in previous.tags if kept != tag]  # a new list: see Image.wire
                self._forget_artifacts_of(previous, [tag], untagged=False)
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
        return scopes_in(Scope(FOLDER_SCOPES[registry.api], registry.folder_id), registry.id, image.name)
