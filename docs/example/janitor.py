"""registry-janitor: deletes the untagged Docker images of a Cloud Registry registry once they are old.

An image pushed again under the same tag leaves its predecessor untagged, and untagged images pile up.
In Cloud Registry an untagged image is an artifact named by its own digest; this job deletes those
older than ``days`` and keeps every tagged one. From the command line, with an IAM token:

    YC_IAM_TOKEN=$(yc iam create-token) python janitor.py REGISTRY_ID --days 30 --dry-run
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import grpc
import yandexcloud
from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.cloudregistry.v1.artifact_pb2 import Artifact
from yandex.cloud.cloudregistry.v1.artifact_service_pb2 import (
    DeleteArtifactMetadata,
    DeleteArtifactRequest,
    ListArtifactsWithFiltersRequest,
)
from yandex.cloud.cloudregistry.v1.artifact_service_pb2_grpc import ArtifactServiceStub
from yandexcloud.operations import OperationError


@dataclass
class Report:
    """What a run found and did; artifacts by their path in the registry (``team/web/sha256:...``)."""

    dry_run: bool
    old_untagged: list[str] = field(default_factory=list)  # what the run found to delete
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path: why (a gRPC status name)

    def __str__(self) -> str:
        if self.dry_run:
            return f"dry run: would delete {len(self.old_untagged)} untagged images"
        return f"deleted {len(self.deleted)} of {len(self.old_untagged)} untagged images, {len(self.failed)} failed"


def artifact_service(sdk: yandexcloud.SDK) -> ArtifactServiceStub:
    # yandexcloud 0.413's sdk.client() knows no Cloud Registry stubs ("Unknown service"). Its channel pool
    # finds any service that endpoint discovery lists, with the SDK's TLS, IAM token and retry policy.
    return ArtifactServiceStub(sdk._channels.channel("cloud-registry"))


def list_old_untagged(
    artifacts: ArtifactServiceStub, registry_id: str, cutoff: datetime, page_size: int
) -> list[Artifact]:
    """Every untagged image created before ``cutoff``, all pages of them."""
    created_before = Timestamp()
    created_before.FromDatetime(cutoff)
    request = ListArtifactsWithFiltersRequest(
        registry_id=registry_id, kind=[Artifact.ARTIFACT], created_before=created_before, page_size=page_size
    )
    found = []
    while True:
        page = artifacts.List(request)
        found += [artifact for artifact in page.artifacts if artifact.name == artifact.content.docker.manifest_digest]
        if not page.next_page_token:
            return found
        request.page_token = page.next_page_token


def clean(
    sdk: yandexcloud.SDK,
    registry_id: str,
    *,
    days: int = 30,
    dry_run: bool = False,
    now: datetime | None = None,
    page_size: int = 100,
) -> Report:
    """Delete the registry's untagged images older than ``days`` and wait for the deletes. ``now`` is the
    reference for their age (default: this machine's clock). A delete that fails is reported and the
    run goes on; a List that fails fails the run (nothing is deleted)."""
    artifacts = artifact_service(sdk)
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    # Every page first: the List pages by position, so deleting between pages would skip artifacts.
    doomed = {f"{a.path}/{a.name}": a for a in list_old_untagged(artifacts, registry_id, cutoff, page_size)}
    report = Report(dry_run, old_untagged=list(doomed))
    if dry_run:
        return report
    started = {}
    for path, artifact in doomed.items():  # start every delete, then wait: the operations run side by side
        try:
            started[path] = artifacts.Delete(DeleteArtifactRequest(artifact_id=artifact.id))
        except grpc.RpcError as error:
            report.failed[path] = error.code().name
    for path, operation in started.items():
        try:
            sdk.wait_operation_and_get_result(operation, meta_type=DeleteArtifactMetadata)
        except OperationError:
            report.failed[path] = "operation failed"
        else:
            report.deleted.append(path)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry_id")
    parser.add_argument("--days", type=int, default=30, help="delete untagged images older than this")
    parser.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    args = parser.parse_args()
    sdk = yandexcloud.SDK(iam_token=os.environ["YC_IAM_TOKEN"], retry_policy=yandexcloud.RetryPolicy())
    report = clean(sdk, args.registry_id, days=args.days, dry_run=args.dry_run)
    for path in report.old_untagged:
        print(report.failed.get(path, "would delete" if args.dry_run else "deleted"), path)
    print(report)
    raise SystemExit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
