"""The repositories: ``<registry id>/<path>``, made by an image's push or an upsert, kept while
they hold images (or since upserted), the tags and digests unique within each. A part of the Store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from emulator.api.errors import FailedPrecondition, NotFound, found, shown
from emulator.api.values import ValueProblem
from emulator.state.listing import (
    ID_ORDER,
    Cursor,
    Field,
    NameSerials,
    Scope,
    ScopedIndex,
    by_name_then_id,
    scopes_in,
)
from emulator.state.operation_log import Effect
from emulator.state.records import (
    CONTAINER_REGISTRY_API,
    FOLDER_SCOPES,
    AccessBinding,
    Action,
    Registry,
    Repository,
)

REPOSITORY_PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
REPOSITORY_ORDERS = ("id", "name")
# Docker's reference grammar caps a repository name, registry host included, at 255 characters
# (NameTotalLengthMax in github.com/distribution/reference): cr.yandex/ leaves 245 for the name the
# API carries, <registry_id>/<path>.
MAX_REPOSITORY_NAME = 255 - len("cr.yandex/")


def check_repository_name(registry_id: str, path: str, field: str) -> None:
    """ValueProblem (naming ``field``) for a name <registry_id>/<path> longer than Docker allows."""
    length = len(registry_id) + 1 + len(path)
    if length > MAX_REPOSITORY_NAME:
        raise ValueProblem(
            field,
            f"<registry_id>/<path> is at most {MAX_REPOSITORY_NAME} characters (Docker's limit), not {length}",
            shown(f"{registry_id}/{path}", 60),
        )


MAX_ACCESS_BINDINGS = 1000  # per registry or repository (SetAccessBindingsRequest's own limit)


def bounded(items: Iterable, limit: int, what: str) -> tuple:
    """Items as a tuple of distinct items, in order; more than ``limit`` is FAILED_PRECONDITION."""
    kept = tuple(dict.fromkeys(items))
    if len(kept) > limit:
        raise FailedPrecondition(f"a resource holds at most {limit} {what}, this would make {len(kept)}")
    return kept


class RepositoryTable:
    """Repositories by id and by name, indexed by folder, registry and name."""

    def _open_table(self) -> None:
        self.repositories: dict[str, Repository] = {}  # by id
        self._repositories_by_name: dict[str, Repository] = {}
        names = NameSerials()
        self._repository_index = ScopedIndex(  # by folder, registry and name
            {"id": ID_ORDER, "name": by_name_then_id("name", names)},
            fields={"id": Field("id"), "name": Field("name", names)},
            record_of=self.repositories.__getitem__,
        )

    def _table_contents(self) -> tuple:
        return self.repositories, self._repositories_by_name, self._repository_index.contents()

    def _table_effects(self) -> dict[Action, Effect]:
        return {Action.DELETE_REPOSITORY: Effect(check=self._check_repository_empty, perform=self.delete_repository)}

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {
            "repository": lambda repository_id: self.folder_of_repository(
                self.get_repository(repository_id), repository_id
            ),
            "repository_name": lambda name: self.folder_of_repository(self.get_repository_by_name(name), name),
        }

    def add_repository(self, registry_id: str, path: str, *, id: str | None = None, kept: bool = True) -> Repository:
        """The repository ``<registry_id>/<path>``, made if it does not exist (kept: it stays
        when empty, as an upserted one does). An existing one is returned (and kept if asked)."""
        if not (isinstance(path, str) and REPOSITORY_PATH.fullmatch(path)):
            raise ValueError(f"path: must match {REPOSITORY_PATH.pattern}, got {shown(path)!r}")
        check_repository_name(registry_id, path, "path")
        with self._lock:
            registry = self.registries.get(registry_id)
            if registry is None:
                raise ValueError(f"registry_id: no registry {registry_id!r}")
            if registry.kind not in (None, "DOCKER"):
                raise ValueError(f"registry_id: {registry_id} is a {registry.kind} registry: it holds no Docker images")
            existing = self._repositories_by_name.get(f"{registry_id}/{path}")
            if existing is not None:
                if id is not None and id != existing.id:
                    raise ValueError(f"id: repository {existing.name} exists with id {existing.id}")
                existing.kept = existing.kept or kept
                return existing
            return self._new_repository(registry, path, id, kept)

    def get_repository(self, repository_id: str) -> Repository:
        with self._lock:
            return found(self.repositories.get(repository_id), "Repository", repository_id)

    def get_repository_by_name(self, name: str) -> Repository:
        with self._lock:
            return found(self._repositories_by_name.get(name), "Repository", name)

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
            repository.access_bindings = bounded(access_bindings, MAX_ACCESS_BINDINGS, "access bindings")
            return repository

    def folder_of_repository(self, repository: Repository, asked: str | None = None) -> str:
        """Its folder, for Container Registry's calls: NOT_FOUND naming what was ``asked`` (its id or
        name) if it is a Cloud Registry registry's, as for a repository that is not there."""
        with self._lock:
            registry = self.registries[repository.registry_id]
            if registry.api != CONTAINER_REGISTRY_API:
                raise NotFound(f"Repository {shown(asked or repository.id)} not found")
            return registry.folder_id

    def _new_repository(self, registry: Registry, path: str, id: str | None, kept: bool) -> Repository:
        repository_id = self._new_or_given_id(id, self.repositories, "id", self._repository_id_source)
        repository = Repository(repository_id, registry.id, f"{registry.id}/{path}", path, kept)
        self._repositories_by_name[repository.name] = repository
        self.repositories[repository_id] = repository
        self._repository_index.add(repository, self._repository_scopes(repository, registry))
        self._package_added(repository, registry)  # a Cloud Registry registry's: a package in its tree
        return repository

    def _drop_repository(self, repository: Repository) -> None:
        self._drop_repository_policies(repository)  # its lifecycle policies go with it
        self._package_dropped(repository)
        registry = self.registries[repository.registry_id]
        self._repository_index.remove(repository, self._repository_scopes(repository, registry))
        del self._repositories_by_name[repository.name]
        del self.repositories[repository.id]

    @staticmethod
    def _repository_scopes(repository: Repository, registry: Registry) -> tuple[Scope, Scope, Scope]:
        return scopes_in(Scope(FOLDER_SCOPES[registry.api], registry.folder_id), registry.id, repository.name)

    def list_repositories(self, scope: Scope, **page: Any) -> tuple[list[Repository], Cursor | None]:
        """One page of repositories in a folder or registry ``scope``, as ``_list`` says."""
        return self._list(self._repository_index, self.repositories, scope, self._repository_group, **page)

    def _repository_group(self, name: str, scope: Scope) -> Scope | None:
        """The scope of the images (or the repository) named ``name``, if inside ``scope``."""
        return Scope("repository", name) if self._name_in_scope(name, scope) else None
