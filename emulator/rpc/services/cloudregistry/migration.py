"""yandex.cloud.cloudregistry.v1.MigrationService: moving a folder's or a cloud's Container Registry
registries to Cloud Registry (emulator.state.migrations), its status dashboards, and the redirects.
The newest SDK's service (yandexcloud 0.413.0), newer than cloudapi's: see emulator/proto/SOURCES.md."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service, Target
from emulator.api.wire import CLOUD_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import new_operation, once
from emulator.state.migrations import COMPLETED, FAILED, IN_PROGRESS, NOT_FOUND, SCHEDULED, MigrationFailure
from emulator.state.records import Action

ON_CLOUD = Target("cloud_id", "cloud")
SERVICE = Service(
    f"{CLOUD_REGISTRY}.MigrationService",
    endpoint="cloud-registry",
    methods_declared={
        "StartCloud": Mutating(deferred=True, on=ON_CLOUD),
        "StartFolder": Mutating(deferred=True, on="folder_id"),
        "GetCloudMigrationStatusDashboard": Read(on=ON_CLOUD),
        "GetFolderMigrationStatusDashboard": Read(on="folder_id"),
        "ToggleRegistryRedirects": Mutating(on=Target("registry_id", "migrated_registry")),
        "ToggleFolderRedirects": Mutating(on="folder_id"),
        "ToggleCloudRedirects": Mutating(on=ON_CLOUD),
    },
)
DEFAULT_LIMIT = 10  # a dashboard's top lists when the request gives 0: the emulator's choice
_COUNTED = {COMPLETED: "completed", IN_PROGRESS: "in_progress", SCHEDULED: "scheduled", FAILED: "failed",
            NOT_FOUND: "not_found"}  # fmt: skip
_STATUS = {NOT_FOUND: COMPLETED}  # a record whose source was gone has nothing left to move


def _limit(value: int) -> int:
    return value or DEFAULT_LIMIT


def _count(counters: Message, statuses) -> None:
    for status in statuses:
        counters.total += 1
        setattr(counters, _COUNTED[status], getattr(counters, _COUNTED[status]) + 1)


def _overall(statuses: list[str]) -> str:
    """A folder's or cloud's status from its registries': unfinished first, then failed, then completed."""
    if not statuses:
        return "MIGRATION_STATUS_UNSPECIFIED"
    if any(status in (IN_PROGRESS, SCHEDULED) for status in statuses):
        return SCHEDULED if all(status == SCHEDULED for status in statuses) else IN_PROGRESS
    return FAILED if FAILED in statuses else COMPLETED


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store = context.store

    def registry_dashboard(record, request: Message, counters: Message) -> tuple[str, Message]:
        status, outcome, tag_outcome = store.migration_progress(record)
        dashboard = message_class(f"{CLOUD_REGISTRY}.MigrationStatusDashboard")(
            registry_id=record.registry_id, status=_STATUS.get(status, status)
        )
        repositories = {path: value for path, value in outcome.items() if path}
        repository_statuses = [value[0] for value in repositories.values()]
        tag_statuses = [value[0] for value in tag_outcome.values()]
        for progress in (dashboard.progress, counters):  # the registry's own, and its folder's or cloud's
            _count(progress.repositories, repository_statuses)
            _count(progress.tags, tag_statuses)
        failed = [(path, value) for path, value in repositories.items() if value[0] == FAILED]
        for path, (_, code, message) in failed[: _limit(request.failed_repositories_limit)]:
            dashboard.top_failed_repositories.add(
                repository_name=path, status=FAILED, error_code=code, error_message=message
            )
        failed_tags = [(key, value) for key, value in tag_outcome.items() if value[0] == FAILED]
        for (path, tag), (_, code, message) in failed_tags[: _limit(request.failed_tags_limit)]:
            dashboard.top_failed_tags.add(
                repository_name=path, tag=tag, status=FAILED, error_code=code, error_message=message
            )
        moving = [path for path, value in repositories.items() if value[0] == IN_PROGRESS]
        for path in moving[: _limit(request.in_progress_repositories_limit)]:
            dashboard.top_in_progress_repositories.add(repository_name=path, status=IN_PROGRESS)
        return status, dashboard

    def scope_dashboard(scope: str, scope_id: str, request: Message) -> Message:
        kind = "Cloud" if scope == "cloud" else "Folder"
        answer = message_class(f"{CLOUD_REGISTRY}.{kind}MigrationStatusDashboard")(**{f"{scope}_id": scope_id})
        statuses, failed, moving = [], [], []
        with store.atomic():
            for record in store.migrations_in(scope, scope_id):
                status, dashboard = registry_dashboard(record, request, answer.progress)
                statuses.append(status)
                if status == FAILED:
                    failed.append(dashboard)
                elif status in (IN_PROGRESS, SCHEDULED):
                    moving.append(dashboard)
        _count(answer.progress.registries, statuses)
        answer.status = _overall(statuses)
        answer.top_failed_registries.extend(failed[: _limit(request.failed_registries_limit)])
        answer.top_in_progress_registries.extend(moving[: _limit(request.in_progress_registries_limit)])
        return answer

    def start(scope: str):
        def handler(request: Message, call: Call) -> Message:
            scope_id = getattr(request, f"{scope}_id")

            def failures_of(registry_ids: tuple[str, ...]) -> list[MigrationFailure]:
                return [MigrationFailure(f["registry_id"], f.get("repository"), f.get("tag"), f["code"], f["message"])
                        for f in call.migration_failures(registry_ids)]  # fmt: skip

            def perform():
                key, registry_ids = store.plan_migration(
                    scope, scope_id, redirects=not request.disable_redirects, failures_of=failures_of
                )
                metadata = {f"{scope}_id": scope_id, "registry_ids": list(registry_ids)}
                return new_operation(
                    call, f"Migrate {scope} {scope_id} to Cloud Registry",
                    f"{CLOUD_REGISTRY}.Start{scope.title()}MigrationMetadata", metadata,
                    scope_id if scope == "folder" else "", action=Action.MIGRATE, target=key,
                )  # fmt: skip

            return once(store, call, request, perform)

        return handler

    def dashboard(scope: str):
        def handler(request: Message, call: Call) -> Message:
            return scope_dashboard(scope, getattr(request, f"{scope}_id"), request)

        return handler

    def toggle(scope: str):
        def handler(request: Message, call: Call) -> Message:
            scope_id = getattr(request, f"{scope}_id")

            def perform():
                registry_ids = store.toggle_redirects(scope, scope_id, request.enabled)
                metadata = {f"{scope}_id": scope_id, "enabled": request.enabled}
                if scope != "registry":
                    metadata["registry_ids"] = list(registry_ids)
                folder_id = store.migrations[scope_id].folder_id if scope == "registry" else (
                    scope_id if scope == "folder" else ""
                )  # fmt: skip
                return new_operation(
                    call, f"Toggle redirects of {scope} {scope_id}",
                    f"{CLOUD_REGISTRY}.Toggle{scope.title()}RedirectsMetadata", metadata, folder_id,
                )  # fmt: skip

            return once(store, call, request, perform)

        return handler

    return {
        "StartCloud": start("cloud"),
        "StartFolder": start("folder"),
        "GetCloudMigrationStatusDashboard": dashboard("cloud"),
        "GetFolderMigrationStatusDashboard": dashboard("folder"),
        "ToggleRegistryRedirects": toggle("registry"),
        "ToggleFolderRedirects": toggle("folder"),
        "ToggleCloudRedirects": toggle("cloud"),
    }
