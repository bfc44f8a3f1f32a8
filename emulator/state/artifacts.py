"""Cloud Registry's artifacts: the tree of a registry, made of folders, packages and artifacts.

One state: a Docker registry's tree is read off its repositories and images, never copied. The
repository ``library/ubuntu`` is the PACKAGE ``ubuntu`` in the FOLDER ``library``; each of its
tags is an ARTIFACT named by the tag (``library/ubuntu/latest``), and an untagged image one named
by its digest (``library/ubuntu/sha256:...``). Folders are records: those UpsertFolder made and
those a repository's path needs (made with the repository, kept after it, as a created directory
is). Registries of other kinds hold folders only: the emulator stores no Maven, npm or other
packages. A part of the Store (its lock and the other tables are the Store's).

Ids: a folder's is ``cn1`` and 17 characters hashed from its registry and path (so the same folder
has the same id whenever it is made); a package's is its repository's id; an untagged artifact's
is its image's id, a tag's is its image's id, ``t`` and 8 characters hashed from the tag. Every
artifact id can so be found from the id alone, without an index kept beside the images.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from emulator.api.errors import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted, shown
from emulator.api.ids import CLOUD_REGISTRY_PREFIX, id_of_bits
from emulator.state.listing import Scope
from emulator.state.operation_log import Effect
from emulator.state.records import CLOUD_REGISTRY_API, AccessBinding, Action, Image, Registry, Repository
from emulator.state.repositories import MAX_ACCESS_BINDINGS, bounded

FOLDER, PACKAGE, ARTIFACT = "FOLDER", "PACKAGE", "ARTIFACT"
ARTIFACT_KINDS = (FOLDER, PACKAGE, ARTIFACT)
ARTIFACT_STATUSES = ("CREATING", "ACTIVE", "DELETING", "DELETED")
# A folder path: segments of letters, digits and ._-~ (no "." or ".." segment), at most 64 deep
# and 1,024 characters (the emulator's choice: nothing public says; see docs/cloud-registry.md).
FOLDER_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*|\.[A-Za-z0-9._~-]*[A-Za-z0-9_~-][A-Za-z0-9._~-]*")
MAX_FOLDER_DEPTH = 64
MAX_PATH_LENGTH = 1024
MAX_FOLDERS = 100_000  # per registry: UpsertFolder beyond it is RESOURCE_EXHAUSTED


@dataclass(slots=True)
class Folder:
    id: str
    registry_id: str
    path: str  # the whole path, "team/web"
    created_at_ns: int
    created_by: str = ""
    access_bindings: tuple[AccessBinding, ...] = ()


@dataclass(frozen=True, slots=True)
class Artifact:
    """One node of a registry's tree as the API shows it: made when read, not stored."""

    id: str
    registry_id: str
    kind: str  # FOLDER, PACKAGE or ARTIFACT
    path: str  # where it lies: its parent's whole path ("" at the top)
    name: str
    created_at_ns: int
    modified_at_ns: int
    created_by: str = ""
    image: Image | None = field(default=None, compare=False)  # an ARTIFACT's image
    status: str = "ACTIVE"  # DELETED while a SOFT_DELETE rule's cooldown runs (emulator.state.cloud_lifecycle)

    @property
    def full_path(self) -> str:
        return f"{self.path}/{self.name}" if self.path else self.name


def folder_id_of(registry_id: str, path: str) -> str:
    bits = int.from_bytes(hashlib.blake2b(f"{registry_id}/{path}".encode(), digest_size=11).digest(), "big") >> 3
    return id_of_bits(bits, CLOUD_REGISTRY_PREFIX)


def _tag_mark(tag: str) -> str:
    return hashlib.blake2b(tag.encode(), digest_size=5).hexdigest()[:8]


def artifact_id_of(image: Image, tag: str | None) -> str:
    return image.id if tag is None else tag_artifact_id(image.id, tag)


def tag_artifact_id(image_id: str, tag: str) -> str:
    """The id of the artifact a tag of an image is: the image's id, ``t`` and a mark of the tag."""
    return f"{image_id}t{_tag_mark(tag)}"


def image_id_of_artifact(artifact_id: str, tag: str) -> str | None:
    """The id of the image a tag's artifact id was made from (artifact_id_of), or None if the id is
    not of that form (another endpoint's): how a snapshot reads images' ids back."""
    image_id, mark, found = artifact_id[:-9], artifact_id[-9:-8], artifact_id[-8:]
    return image_id if image_id and mark == "t" and found == _tag_mark(tag) else None


def normal_path(path: str, field_name: str = "path", *, top: bool = True) -> str:
    """A path as given (a leading or trailing "/" allowed, as the documentation's examples write
    both ``/library/ubuntu`` and ``library/ubuntu``), without them; INVALID_ARGUMENT if too long, or
    if it names the top (empty, or slashes) where a node is wanted (``top=False``)."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidArgument.field(field_name, f"must be at most {MAX_PATH_LENGTH} characters, got {len(path)}")
    normal = path.strip("/")
    if not normal and not top:
        raise InvalidArgument.field(field_name, f"must name a folder, package or artifact, got {path!r}")
    return normal


def _parent_and_name(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return parent, name


class ArtifactTable:
    """Folders by id and by (registry, path), and which folders and packages lie under each path."""

    def _open_table(self) -> None:
        self.folders: dict[str, Folder] = {}
        self._folder_at: dict[tuple[str, str], Folder] = {}  # (registry id, path) -> folder
        # (registry id, parent path) -> {name: kind} of the folders and packages right under it
        self._children: dict[tuple[str, str], dict[tuple[str, str], None]] = {}
        self._registry_folders: dict[str, set[str]] = {}  # registry id -> its folders' ids
        self._artifact_bindings: dict[str, tuple[AccessBinding, ...]] = {}  # an ARTIFACT's, by its id

    def _table_contents(self) -> tuple:
        return self.folders, self._folder_at, self._children, self._registry_folders, self._artifact_bindings

    def _table_effects(self) -> dict[Action, Effect]:
        return {Action.DELETE_ARTIFACT: Effect(check=self._check_artifact_deletable, perform=self.delete_artifact)}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {
            "artifact": lambda artifact_id: self._cloud_registry(self.get_artifact(artifact_id).registry_id).folder_id,
        }

    # ---- the tree ------------------------------------------------------------------------

    def _cloud_registry(self, registry_id: str) -> Registry:
        return self.registry_in(CLOUD_REGISTRY_API, registry_id)

    def _link(self, registry_id: str, path: str, kind: str) -> None:
        parent, name = _parent_and_name(path)
        self._children.setdefault((registry_id, parent), {})[(name, kind)] = None

    def _unlink(self, registry_id: str, path: str, kind: str) -> None:
        parent, name = _parent_and_name(path)
        children = self._children.get((registry_id, parent))
        if children is not None:
            children.pop((name, kind), None)
            if not children:
                del self._children[(registry_id, parent)]

    def _package_added(self, repository: Repository, registry: Registry) -> None:
        """A repository of a Cloud Registry registry: its package, and the folders its path needs."""
        if registry.api != CLOUD_REGISTRY_API:
            return
        parent = _parent_and_name(repository.path)[0]
        if parent:
            self._make_folders(registry.id, parent, self.clock.now_ns(), "")
        self._link(registry.id, repository.path, PACKAGE)

    def _package_dropped(self, repository: Repository) -> None:
        self._unlink(repository.registry_id, repository.path, PACKAGE)

    def _make_folders(self, registry_id: str, path: str, now_ns: int, created_by: str) -> Folder:
        """The folder at ``path`` and those above it, made if missing; the folder at ``path``."""
        segments = path.split("/")
        folder = None
        for depth in range(1, len(segments) + 1):
            prefix = "/".join(segments[:depth])
            folder = self._folder_at.get((registry_id, prefix))
            if folder is None:
                folder = self._add_folder(
                    Folder(folder_id_of(registry_id, prefix), registry_id, prefix, now_ns, created_by)
                )
        return folder

    def _add_folder(self, folder: Folder) -> Folder:
        self.folders[folder.id] = folder
        self._folder_at[(folder.registry_id, folder.path)] = folder
        self._registry_folders.setdefault(folder.registry_id, set()).add(folder.id)
        self._link(folder.registry_id, folder.path, FOLDER)
        return folder

    def _drop_folder(self, folder: Folder) -> None:
        del self.folders[folder.id]
        del self._folder_at[(folder.registry_id, folder.path)]
        held = self._registry_folders[folder.registry_id]
        held.discard(folder.id)
        if not held:
            del self._registry_folders[folder.registry_id]
        self._unlink(folder.registry_id, folder.path, FOLDER)

    def _drop_registry_folders(self, registry_id: str) -> None:
        for folder_id in list(self._registry_folders.get(registry_id, ())):
            self._drop_folder(self.folders[folder_id])

    def upsert_folder(
        self, registry_id: str, path: str, *, created_by: str = "", created_at_ns: int | None = None
    ) -> Folder:
        """The folder at ``path`` (and those above it), made if missing. A path that is a package or
        an artifact is FAILED_PRECONDITION; a malformed one INVALID_ARGUMENT."""
        path = normal_path(path)
        segments = path.split("/")
        if not path or len(segments) > MAX_FOLDER_DEPTH or not all(map(FOLDER_SEGMENT.fullmatch, segments)):
            raise InvalidArgument.field(
                "path",
                f"must be 1 to {MAX_FOLDER_DEPTH} segments joined by '/', each of letters, digits and ._~- "
                f"(not . or ..), got {shown(path)!r}",
            )
        with self._lock:
            registry = self._cloud_registry(registry_id)
            existing = self._folder_at.get((registry.id, path))
            if existing is not None:
                return existing
            for depth in range(1, len(segments) + 1):
                prefix = "/".join(segments[:depth])
                if f"{registry.id}/{prefix}" in self._repositories_by_name or (
                    depth > 1 and self._artifact_at(registry.id, prefix) is not None
                ):
                    raise FailedPrecondition(f"Path {prefix} of registry {registry.id} is a package, not a folder")
            missing = sum(
                1
                for depth in range(1, len(segments) + 1)
                if (registry.id, "/".join(segments[:depth])) not in self._folder_at
            )
            if len(self._registry_folders.get(registry.id, ())) + missing > MAX_FOLDERS:
                raise ResourceExhausted(f"Registry {registry.id} holds {MAX_FOLDERS} folders, the emulator's limit")
            now = created_at_ns if created_at_ns is not None else self.clock.now_ns()
            return self._make_folders(registry.id, path, now, created_by)

    def _artifact_at(self, registry_id: str, path: str) -> Artifact | None:
        """The ARTIFACT at ``path`` (a package's path, then a tag or a digest), if there is one."""
        package_path, name = _parent_and_name(path)
        repository = self._repositories_by_name.get(f"{registry_id}/{package_path}") if package_path else None
        if repository is None:
            return None
        image_id = repository.tags.get(name)
        if image_id is not None:
            return self._tag_artifact(self.images[image_id], name)
        image_id = repository.digests.get(name)
        if image_id is not None and not self.images[image_id].tags:
            return self._tag_artifact(self.images[image_id], None)
        return None

    def _is_package(self, registry_id: str, path: str) -> bool:
        """Whether a repository has this path: then it is a package, and the folder of that path
        (made for a repository below it) is not shown."""
        return f"{registry_id}/{path}" in self._repositories_by_name

    def _folder_artifact(self, folder: Folder) -> Artifact:
        parent, name = _parent_and_name(folder.path)
        return Artifact(
            folder.id, folder.registry_id, FOLDER, parent, name, folder.created_at_ns, folder.created_at_ns,
            folder.created_by,
        )  # fmt: skip

    def _package_artifact(self, repository: Repository) -> Artifact:
        parent, name = _parent_and_name(repository.path)
        images = [self.images[image_id] for image_id in repository.digests.values()]
        if images:
            created = min(image.created_at_ns for image in images)
            modified = max(image.last_modified_ns for image in images)
        else:  # kept while empty
            created = modified = self.registries[repository.registry_id].created_at_ns
        return Artifact(repository.id, repository.registry_id, PACKAGE, parent, name, created, modified)

    def _tag_artifact(self, image: Image, tag: str | None) -> Artifact:
        artifact_id = artifact_id_of(image, tag)
        return Artifact(
            artifact_id, image.registry_id, ARTIFACT, image.repository, tag or image.digest, image.created_at_ns,
            image.last_modified_ns, image=image, status="DELETED" if artifact_id in self.soft_deleted else "ACTIVE",
        )  # fmt: skip

    def _artifacts_of(self, repository: Repository) -> Iterator[Artifact]:
        for tag, image_id in repository.tags.items():
            yield self._tag_artifact(self.images[image_id], tag)
        for image_id in repository.digests.values():
            image = self.images[image_id]
            if not image.tags:
                yield self._tag_artifact(image, None)

    # ---- reading ------------------------------------------------------------------------

    def get_artifact(self, artifact_id: str) -> Artifact:
        """Any node of a Cloud Registry registry's tree by its id; NOT_FOUND otherwise."""
        with self._lock:
            folder = self.folders.get(artifact_id)
            if folder is not None:
                return self._folder_artifact(folder)
            repository = self.repositories.get(artifact_id)
            if repository is not None and self.registries[repository.registry_id].api == CLOUD_REGISTRY_API:
                return self._package_artifact(repository)
            untagged = self.images.get(artifact_id)  # an image's id, of any length a seed may give
            if untagged is not None and not untagged.tags and self._in_cloud_registry(untagged):
                return self._tag_artifact(untagged, None)
            tagged = self.images.get(artifact_id[:-9])  # tag_artifact_id: the image's id, "t", 8 characters
            if tagged is not None and self._in_cloud_registry(tagged):
                for tag in tagged.tags:
                    if artifact_id == artifact_id_of(tagged, tag):
                        return self._tag_artifact(tagged, tag)
            raise NotFound(f"Artifact {shown(artifact_id)} not found")

    def _in_cloud_registry(self, image: Image) -> bool:
        return self.registries[image.registry_id].api == CLOUD_REGISTRY_API

    def get_artifact_by_path(self, registry_id: str, path: str) -> Artifact:
        """The node at ``path``: a package before a folder of the same path, then an artifact."""
        path = normal_path(path, top=False)
        with self._lock:
            registry = self._cloud_registry(registry_id)
            repository = self._repositories_by_name.get(f"{registry.id}/{path}")
            if repository is not None:
                return self._package_artifact(repository)
            folder = self._folder_at.get((registry.id, path))
            if folder is not None:
                return self._folder_artifact(folder)
            artifact = self._artifact_at(registry.id, path)
            if artifact is None:
                raise NotFound(f"Artifact {shown(path)!r} not found in registry {registry.id}")
            return artifact

    def children_of(self, registry_id: str, path: str) -> list[Artifact]:
        """What lies right under ``path`` ("" is the top) of a registry, ordered by kind then name;
        NOT_FOUND for a path that is no folder or package. Costs the children's number."""
        path = normal_path(path)
        with self._lock:
            registry = self._cloud_registry(registry_id)
            repository = self._repositories_by_name.get(f"{registry.id}/{path}") if path else None
            if path and repository is None and (registry.id, path) not in self._folder_at:
                raise NotFound(f"Path {shown(path)!r} is no folder or package of registry {registry.id}")
            nodes = []
            for name, kind in self._children.get((registry.id, path), {}):
                whole = f"{path}/{name}" if path else name
                if kind == FOLDER:
                    if not self._is_package(registry.id, whole):
                        nodes.append(self._folder_artifact(self._folder_at[(registry.id, whole)]))
                else:
                    nodes.append(self._package_artifact(self._repositories_by_name[f"{registry.id}/{whole}"]))
            if repository is not None:
                nodes.extend(self._artifacts_of(repository))
            return sorted(nodes, key=lambda node: (ARTIFACT_KINDS.index(node.kind), node.name, node.id))

    def artifacts_in(self, registry_ids: Iterable[str]) -> Iterator[Artifact]:
        """Every node of these registries' trees (folders, packages, artifacts), in no set order."""
        with self._lock:
            for registry_id in registry_ids:
                for folder_id in self._registry_folders.get(registry_id, ()):
                    folder = self.folders[folder_id]
                    if not self._is_package(registry_id, folder.path):
                        yield self._folder_artifact(folder)
                for repository in self._repositories_of(registry_id):
                    yield self._package_artifact(repository)
                    yield from self._artifacts_of(repository)

    def _repositories_of(self, registry_id: str) -> list[Repository]:
        ids, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
        return [self.repositories[repository_id] for repository_id in ids]

    # ---- access bindings ----------------------------------------------------------------

    def artifact_access(self, artifact_id: str) -> tuple[tuple[AccessBinding, ...], str]:
        """A node's access bindings and its folder id."""
        with self._lock:
            artifact = self.get_artifact(artifact_id)
            folder_id = self.registries[artifact.registry_id].folder_id
            if artifact.kind == FOLDER:
                return self.folders[artifact.id].access_bindings, folder_id
            if artifact.kind == PACKAGE:
                return self.repositories[artifact.id].access_bindings, folder_id
            return self._artifact_bindings.get(artifact.id, ()), folder_id

    def set_artifact_access(self, artifact_id: str, bindings: Iterable[AccessBinding]) -> None:
        with self._lock:
            artifact = self.get_artifact(artifact_id)
            kept = bounded(bindings, MAX_ACCESS_BINDINGS, "access bindings")
            if artifact.kind == FOLDER:
                self.folders[artifact.id].access_bindings = kept
            elif artifact.kind == PACKAGE:
                self.repositories[artifact.id].access_bindings = kept
            elif kept:
                self._artifact_bindings[artifact.id] = kept
            else:
                self._artifact_bindings.pop(artifact.id, None)

    def _forget_artifacts_of(self, image: Image, tags: Iterable[str], *, untagged: bool) -> None:
        """Some tags of an image went (``untagged``: the image too): their artifacts' bindings and
        soft-deletion marks go with them (an id names its image, so no other artifact has it later)."""
        if self._artifact_bindings or self.soft_deleted:
            for tag in (*tags, *((None,) if untagged else ())):
                self._artifact_bindings.pop(artifact_id_of(image, tag), None)
                self.soft_deleted.pop(artifact_id_of(image, tag), None)

    # ---- deleting -----------------------------------------------------------------------

    def _repositories_under(self, artifact: Artifact) -> list[Repository]:
        """What deleting a package or folder takes: the package's repository; every repository below
        the folder's path. (A package below a package stays: Docker's svc and svc/api are two.)"""
        prefix = artifact.full_path
        if artifact.kind == PACKAGE:
            return [self.repositories[artifact.id]]
        return [r for r in self._repositories_of(artifact.registry_id) if r.path.startswith(prefix + "/")]

    def _doomed_images(self, artifact: Artifact) -> list[str]:
        """The images deleting ``artifact`` deletes: a tag's image when it is its last tag, an
        untagged image, every image of a package or under a folder."""
        if artifact.kind == ARTIFACT:
            image = artifact.image
            return [image.id] if len(image.tags) <= 1 else []
        return [
            image_id for repository in self._repositories_under(artifact) for image_id in repository.digests.values()
        ]

    def _check_artifact_deletable(self, artifact_id: str) -> None:
        """NOT_FOUND for an unknown id; FAILED_PRECONDITION if an image it deletes is referenced by
        an image list it does not delete (as ImageService.Delete refuses)."""
        with self._lock:
            artifact = self.get_artifact(artifact_id)
            doomed = set(self._doomed_images(artifact))
            for image_id in doomed:
                if any(referrer not in doomed for referrer in self._referenced_by.get(image_id, ())):
                    self._check_image_deletable(image_id)

    def delete_artifact(self, artifact_id: str) -> Artifact:
        """Delete a node and everything under it: a tag (its image too when it was the image's last
        tag), an untagged image, a package's images and the package, a folder's packages, folders
        and itself."""
        with self._lock:
            self._check_artifact_deletable(artifact_id)
            artifact = self.get_artifact(artifact_id)
            doomed = self._doomed_images(artifact)
            if artifact.kind == ARTIFACT and not doomed:
                self.untag_image(artifact.image.id, artifact.name)
                return artifact
            under = [] if artifact.kind == ARTIFACT else self._repositories_under(artifact)
            self.delete_images(doomed)
            if artifact.kind == ARTIFACT:
                return artifact
            prefix = artifact.full_path
            for repository in under:
                if repository.id in self.repositories:  # the last image of one that is not kept took it
                    self._drop_repository(repository)
            if artifact.kind == FOLDER:
                for folder_id in list(self._registry_folders.get(artifact.registry_id, ())):
                    folder = self.folders[folder_id]
                    if folder.path == prefix or folder.path.startswith(prefix + "/"):
                        self._drop_folder(folder)
            return artifact
