"""Cloud Registry (yandex.cloud.cloudregistry.v1), Container Registry's successor: one module per
service, over the same state as Container Registry's (a Cloud Registry registry is a Registry record
with a ``kind``; its Docker images are the same Image records, seen as artifacts)."""

from emulator.rpc.services.cloudregistry import (
    artifacts,
    lifecycle_policies,
    migration,
    registries,
    scan_policies,
    scanner,
)

SERVICE_MODULES = (registries, artifacts, lifecycle_policies, scanner, scan_policies, migration)
