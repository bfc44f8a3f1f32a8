"""The registries: each in its folder, unique by name there, with its access bindings and IP
permissions; deleted only when empty (or forced, images first). A part of the Store (its lock
and the other tables are the Store's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from emulator.api.errors import AlreadyExists, FailedPrecondition, found, shown
from emulator.api.ids import CLOUD_REGISTRY_PREFIX, REGISTRY_PREFIX
from emulator.api.values import check_id, check_timestamp
from emulator.state.listing import ID_ORDER, Cursor, Scope, ScopedIndex
from emulator.state.operation_log import Effect
from emulator.state.records import (
    CLOUD_REGISTRY_API,
    CONTAINER_REGISTRY_API,
    FOLDER_SCOPES,
    REGISTRY_KINDS,
    REGISTRY_TYPES,
    AccessBinding,
    Action,
    IpPermission,
    Registry,
)
from emulator.state.repositories import MAX_ACCESS_BINDINGS, bounded

MAX_IP_PERMISSIONS = 1000  # per registry


class RegistryTable:
    """Registries by id, indexed by folder and by (folder, name)."""

    def _open_table(self) -> None:
        self.registries: dict[str, Registry] = {}
        self._registry_index = ScopedIndex({"id": ID_ORDER})  # by folder and by (folder, name)

    def _table_contents(self) -> tuple:
        return self.registries, self._registry_index.contents()

    def _table_effects(self) -> dict[Action, Effect]:
        def mark_registry(status: str) -> Callable[[str], None]:
            return lambda target: setattr(self.get_registry(target), "status", status)

        force_delete = partial(self.delete_registry, force=True)
        return {
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
        }

    def _table_folders(self) -> dict[str, Callable[[str], str]]:
        return {
            "registry": lambda registry_id: self.registry_in(CONTAINER_REGISTRY_API, registry_id).folder_id,
            "cloud_registry": lambda registry_id: self.registry_in(CLOUD_REGISTRY_API, registry_id).folder_id,
            # <registry_id>/<repository path>
            "repository_path": lambda path: self.registry_in(CONTAINER_REGISTRY_API, path.partition("/")[0]).folder_id,
        }

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
        **cloud_registry: Any,
    ) -> Registry:
        """Add a registry; bad arguments raise ValueError naming the argument.
        ``unique_name``: ALREADY_EXISTS if the folder has a registry of that name (Create).
        ``cloud_registry``: a Cloud Registry registry's fields (``kind``, ``type``, ``description``,
        ``properties``, ``include_patterns``, ``exclude_patterns``); without ``kind`` it is a
        Container Registry one."""
        check_id(folder_id, "folder_id")
        if created_at_ns is not None:
            check_timestamp(created_at_ns, "created_at")
        check_cloud_registry_fields(cloud_registry)
        with self._lock:
            prefix = CLOUD_REGISTRY_PREFIX if cloud_registry.get("kind") else REGISTRY_PREFIX
            registry_id = self._new_or_given_id(id, self.registries, "id", prefix=prefix)
            registry = Registry(
                id=registry_id,
                folder_id=folder_id,
                name=name if name is not None else f"registry-{registry_id[-5:]}",
                created_at_ns=created_at_ns if created_at_ns is not None else self.clock.now_ns(),
                labels=dict(labels or {}),
                status=status,
                **cloud_registry,
            )
            if unique_name:
                self._check_name_free(registry)
            self.registries[registry_id] = registry
            self._registry_index.add(registry, self._registry_scopes(registry))
            return registry

    def update_registry(
        self, registry_id: str, *, name: str | None = None, labels: dict | None = None, **cloud_registry: Any
    ) -> Registry:
        """Change a registry's name, labels and (a Cloud Registry one's) ``description``,
        ``properties``, ``include_patterns``, ``exclude_patterns`` (None or absent: unchanged); a
        name another registry of the folder has is ALREADY_EXISTS."""
        changes = {field: value for field, value in cloud_registry.items() if value is not None}
        check_cloud_registry_fields(changes, updating=True)
        with self._lock:
            registry = self.get_registry(registry_id)
            if name is not None and name != registry.name:
                if name:
                    self._check_name_free(Registry(registry.id, registry.folder_id, name, 0, kind=registry.kind))
                self._registry_index.remove(registry, self._registry_scopes(registry))
                registry.name = name
                self._registry_index.add(registry, self._registry_scopes(registry))
            if labels is not None:
                registry.labels = dict(labels)
            for field, value in changes.items():
                setattr(registry, field, value)
            registry.modified_at_ns = self.clock.now_ns()
            return registry

    def delete_registry(self, registry_id: str, *, force: bool = False) -> Registry:
        """Remove a registry that holds no images (FAILED_PRECONDITION otherwise; ``force``:
        its images go first) and its empty repositories."""
        with self._lock:
            registry = self.get_registry(registry_id)
            inside, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
            if force:  # image lists first, at any depth: what they reference cannot go before them
                self.delete_images([i for r in inside for i in self.repositories[r].digests.values()])
                inside, _ = self._repository_index.page(Scope("registry", registry_id), "id", limit=10**9)
            self._check_empty(registry_id, inside)
            for repository_id in inside:
                self._drop_repository(self.repositories[repository_id])
            self._drop_registry_scan_policy(registry_id)
            self._drop_registry_folders(registry_id)
            self._drop_registry_cloud_policies(registry_id)
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
                registry.access_bindings = bounded(access_bindings, MAX_ACCESS_BINDINGS, "access bindings")
            if ip_permissions is not None:
                registry.ip_permissions = bounded(ip_permissions, MAX_IP_PERMISSIONS, "IP permissions")
            return registry

    def _check_name_free(self, registry: Registry) -> None:
        if self._registry_index.holds(_name_scope(registry.api, registry.folder_id, registry.name)):
            raise AlreadyExists(
                f"Registry with name {shown(registry.name)} already exists in folder {registry.folder_id}"
            )

    @staticmethod
    def _registry_scopes(registry: Registry) -> tuple[Scope, Scope]:
        """Its folder and its name there, as its API sees them (each API lists and names apart)."""
        return (
            Scope(FOLDER_SCOPES[registry.api], registry.folder_id),
            _name_scope(registry.api, registry.folder_id, registry.name),
        )

    def get_registry(self, registry_id: str) -> Registry:
        with self._lock:
            return found(self.registries.get(registry_id), "Registry", registry_id)

    def registry_in(self, api: str, registry_id: str) -> Registry:
        """A registry as ``api`` sees it: NOT_FOUND when it is not there or is the other API's."""
        with self._lock:
            registry = self.registries.get(registry_id)
            return found(registry if registry is not None and registry.api == api else None, "Registry", registry_id)

    def list_registries(self, scope: Scope, **page: Any) -> tuple[list[Registry], Cursor | None]:
        """One page of registries in a folder ``scope`` (ordered by id; the scope's kind says which
        API's: ``folder`` or ``cloud_folder``), as ``_list`` says."""
        api = CLOUD_REGISTRY_API if scope.kind == FOLDER_SCOPES[CLOUD_REGISTRY_API] else CONTAINER_REGISTRY_API
        return self._list(
            self._registry_index,
            self.registries,
            scope,
            lambda name, scope: _name_scope(api, scope.value, name),
            **page,
        )


def _name_scope(api: str, folder_id: str, name: str) -> Scope:
    return Scope("registry-name" if api == CONTAINER_REGISTRY_API else "cloud-registry-name", (folder_id, name))


def check_cloud_registry_fields(fields: dict[str, Any], *, updating: bool = False) -> None:
    """ValueError naming a Cloud Registry field that is unknown or of the wrong shape; ``kind`` and
    ``type`` are fixed at creation."""
    allowed = {"description", "properties", "include_patterns", "exclude_patterns"}
    if not updating:
        allowed |= {"kind", "type", "modified_at_ns"}
    for field, value in fields.items():
        if field not in allowed:
            raise ValueError(f"{field}: not a registry field{' that changes' if updating else ''}")
        if field == "kind" and value is not None and value not in REGISTRY_KINDS:
            raise ValueError(f"kind: must be one of {', '.join(REGISTRY_KINDS)}, got {shown(value)!r}")
        if field == "type" and value not in REGISTRY_TYPES:
            raise ValueError(f"type: must be one of {', '.join(REGISTRY_TYPES)}, got {shown(value)!r}")
        if field == "description" and not isinstance(value, str):
            raise ValueError("description: must be a string")
        if field == "properties" and not (
            isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            raise ValueError("properties: must map strings to strings")
        if field.endswith("_patterns") and not (
            isinstance(value, tuple) and all(isinstance(pattern, str) for pattern in value)
        ):
            raise ValueError(f"{field}: must be a tuple of strings")
