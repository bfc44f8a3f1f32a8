"""The Cloud Registry half of ``ycr-emulator snapshot``: a folder's (or one) Cloud Registry
registries read through the public API, List and Get only, as seed entries (the seed format's
registries with a ``kind``), so an emulator seeded from them answers Cloud Registry's reads as the
endpoint did.

The API shows a registry as a tree of nodes; the seed holds what the tree is read off:

- FOLDER nodes are the entry's ``folders`` (path, created_at, created_by); PACKAGE nodes its
  ``repositories`` (a package's id is its repository's; one with no artifact is kept).
- A Docker registry's ARTIFACT nodes are its images: the artifacts of one package with one
  ``manifest_digest`` are one image, tagged by the artifacts named otherwise than by a digest, with
  ``created_at`` and ``modified_at`` (its last_modified), config and layers (digest and size: the
  API shows no blob ids) or, for a manifest list, the digests it references (``manifests``).
- Image ids are not shown. An emulator's artifact ids are made from them (an untagged artifact's
  is its image's; a tag's is its image's, ``t`` and a mark of the tag), so they are read back
  whole; an id of another form (production's) is kept as the image's id, and the seeded emulator
  then serves its own ids for that image's tags (a note says how many).
- Access bindings of the registry and of every node (one call each), IP permissions, lifecycle
  policies with their dry runs and the artifacts each found, the scan policy and every artifact's
  scan results with their vulnerabilities. A refused kind (PERMISSION_DENIED, UNIMPLEMENTED) is
  left out with a note, as for Container Registry.
- An artifact listed DELETED (marked by a soft-delete rule) is marked again; when its cooldown
  ends is not shown: the longest ``cooldown_period_days`` of the registry's soft-delete rules from
  the snapshot's time. An artifact's ``created_by`` and ``modified_by`` are not kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.contract.reader import Reader, SnapshotError, add_found, enum_name, ns
from emulator.state.artifacts import image_id_of_artifact, tag_artifact_id
from emulator.state.codecs import format_timestamp
from emulator.state.records import REGISTRY_STATUSES

API = "cloudregistry"  # the services' short names: cloudregistry.RegistryService, ...
NS_PER_DAY = 86_400 * 1_000_000_000


def _dict(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _full_path(node: Message) -> str:
    path = node.path.strip("/")
    return f"{path}/{node.name}" if path else node.name


class CloudRegistryReader(Reader):
    """The Cloud Registry calls of one snapshot."""

    def registries(self, folder_id: str | None, registry_id: str | None) -> list[Message] | None:
        """The folder's Cloud Registry registries (or the one), or None if the endpoint does not
        serve Cloud Registry (UNIMPLEMENTED) or has no such registry (NOT_FOUND, by id)."""
        try:
            if registry_id is not None:
                return [self.call(f"{API}.RegistryService/Get", registry_id=registry_id)]
            pages = self.pages(f"{API}.RegistryService/List", folder_id=folder_id)
            found = [registry for page in pages for registry in page.registries]
            self.say(
                f"folder {folder_id}: {len(found)} Cloud Registry {'registry' if len(found) == 1 else 'registries'}"
            )
            return found
        except SnapshotError as error:
            if error.code == grpc.StatusCode.UNIMPLEMENTED or (
                registry_id is not None and error.code == grpc.StatusCode.NOT_FOUND
            ):
                return None
            raise

    def nodes(self, registry_id: str) -> list[Message]:
        return [
            node
            for page in self.pages(f"{API}.ArtifactService/List", registry_id=registry_id)
            for node in page.artifacts
        ]

    def ip_permissions(self, registry_id: str) -> list[dict] | None:
        method = f"{API}.RegistryService/ListIpPermissions"

        def read() -> list[dict]:
            response = self.call(method, registry_id=registry_id)
            return [
                {"action": enum_name(item, "action", f"registry {registry_id}: an IP permission"), "ip": item.ip}
                for item in response.permissions
            ]

        return self.optional(method, "Cloud Registry IP permissions", read)

    def node_bindings(self, node_id: str) -> list[dict] | None:
        return self.access_bindings(f"{API}.ArtifactService/ListAccessBindings", node_id, "artifact access bindings")

    def lifecycle_policies(self, registry_id: str) -> list[dict] | None:
        def read() -> list[dict]:
            policies = []
            for page in self.pages(f"{API}.LifecyclePolicyService/List", registry_id=registry_id):
                for policy in page.policies:
                    what = f"lifecycle policy {policy.id}"
                    entry = {
                        "id": policy.id, "name": policy.name, "description": policy.description,
                        "state": enum_name(policy, "state", what), "rules": [_dict(rule) for rule in policy.rules],
                        "created_at": format_timestamp(ns(policy.created_at, what)),
                        "modified_at": format_timestamp(ns(policy.modified_at, what)),
                        "created_by": policy.created_by, "modified_by": policy.modified_by,
                    }  # fmt: skip
                    runs = self._dry_runs(policy.id)
                    if runs:
                        entry["dry_run_results"] = runs
                    policies.append(entry)
            return policies

        return self.optional(f"{API}.LifecyclePolicyService/List", "Cloud Registry lifecycle policies", read)

    def _dry_runs(self, policy_id: str) -> list[dict]:
        runs = []
        for page in self.pages(f"{API}.LifecyclePolicyService/ListDryRunResults", policy_id=policy_id):
            for run in page.results:
                affected = []
                found = self.pages(f"{API}.LifecyclePolicyService/ListDryRunArtifacts", dry_run_id=run.dry_run_id)
                for item in (item for page in found for item in page.artifacts):
                    triggered = item.affected_by
                    rule_type = enum_name(triggered, "rule_type", f"dry run {run.dry_run_id}: {item.path}")
                    affected.append({
                        "path": item.path, "artifact_id": item.artifact_id, "rule_type": rule_type,
                        "rule_index": triggered.rule_index,
                    })  # fmt: skip
                runs.append({
                    "id": run.dry_run_id,
                    "run_at": format_timestamp(ns(run.run_at, f"dry run {run.dry_run_id}: run_at")),
                    "policy_snapshot": [_dict(rule) for rule in run.policy_snapshot],
                    "affected": affected,
                })  # fmt: skip
        return runs

    def scan_results(self, artifact_id: str) -> list[Message] | None:
        """The artifact's scan results with their vulnerabilities: [(result, [vulnerability])]."""

        def read() -> list:
            results = []
            for page in self.pages(f"{API}.ScannerService/List", artifact_id=artifact_id):
                for result in page.scan_results:
                    found = self.pages(f"{API}.ScannerService/ListVulnerabilities", scan_result_id=result.id)
                    results.append((result, [v for page in found for v in page.vulnerabilities]))
            return results

        return self.optional(f"{API}.ScannerService/List", "Cloud Registry scan results", read)


def vulnerability_entry(vulnerability: Message, what: str) -> dict:
    """A Cloud Registry vulnerability in the seed's form (Container Registry's Vulnerability JSON)."""
    package = {
        "name": vulnerability.name, "link": vulnerability.link, "package": vulnerability.package_name,
        "source": vulnerability.source, "version": vulnerability.package_version,
        "fixed_by": vulnerability.package_fixed_version, "origin": vulnerability.origin,
        "type": vulnerability.package_type,
    }  # fmt: skip
    severity = enum_name(vulnerability, "severity", what)
    return {"severity": severity, "package": {key: value for key, value in package.items() if value}}


def _image_id(artifacts: list[Message]) -> tuple[str, bool]:
    """The image's id from its artifacts' ids, and whether it was read back whole (an emulator's
    ids) or is an artifact's id kept in its place."""
    for artifact in artifacts:
        if artifact.name == artifact.content.docker.manifest_digest:  # untagged: the image's own id
            return artifact.id, True
        found = image_id_of_artifact(artifact.id, artifact.name)
        if found is not None:
            return found, True
    return min(artifact.id for artifact in artifacts), False


def copy_id(artifact: Message, image_id: str) -> str:
    """The id the seeded emulator gives an artifact of the image ``image_id``: the endpoint's own when
    it was made so (an emulator's), else the one the copy makes (its scan results follow it)."""
    if artifact.name == artifact.content.docker.manifest_digest:
        return image_id
    return tag_artifact_id(image_id, artifact.name)


def _blob(descriptor: Message) -> dict:
    return {"digest": descriptor.digest, "size": descriptor.size}


def image_entry(path: str, artifacts: list[Message], image_id: str) -> dict:
    """One image from its artifacts (one package, one manifest digest)."""
    first = min(artifacts, key=lambda artifact: artifact.id)
    docker = first.content.docker
    created = ns(first.created_at, f"artifact {first.id}: created_at")
    modified = ns(first.modified_at, f"artifact {first.id}: modified_at")
    entry = {
        "repository": path,
        "id": image_id,
        "digest": docker.manifest_digest,
        "tags": sorted(artifact.name for artifact in artifacts if artifact.name != docker.manifest_digest),
        "created_at": format_timestamp(created),
    }
    if modified != created:
        entry["last_modified"] = format_timestamp(modified)
    if docker.HasField("manifest_list"):
        entry["manifests"] = [item.manifest_descriptor.digest for item in docker.manifest_list.manifests]
    else:
        entry["config"] = _blob(docker.image_manifest.config)
        entry["layers"] = [_blob(layer) for layer in docker.image_manifest.layers]
    return entry


def registry_head(registry: Message) -> dict:
    """A Cloud Registry registry's own fields as its seed entry holds them."""
    what = f"registry {registry.id}"
    entry = {
        "id": registry.id,
        "folder_id": registry.folder_id,
        "name": registry.name,
        "kind": enum_name(registry, "kind", what),
        "type": enum_name(registry, "type", what),
        "created_at": format_timestamp(ns(registry.created_at, f"{what}: created_at")),
        "labels": dict(registry.labels),
    }
    modified = ns(registry.modified_at, f"{what}: modified_at")
    if modified != ns(registry.created_at):
        entry["modified_at"] = format_timestamp(modified)
    if registry.description:
        entry["description"] = registry.description
    if registry.properties:
        entry["properties"] = dict(registry.properties)
    if registry.pattern_filter.include_patterns or registry.pattern_filter.exclude_patterns:
        entry["pattern_filter"] = _dict(registry.pattern_filter)
    status = enum_name(registry, "status", what)
    if status in REGISTRY_STATUSES and status != "ACTIVE":
        entry["status"] = status
    return entry


def _longest_cooldown_ns(policies: Iterable[dict]) -> int:
    days = [
        int(rule["delete"].get("cooldown_period_days", 0))
        for policy in policies
        for rule in policy["rules"]
        if "delete" in rule and rule["delete"].get("type") == "SOFT_DELETE"
    ]
    return max(days, default=0) * NS_PER_DAY


class Summary:
    """What the notes after a Cloud Registry snapshot say: ids kept in place of images' ids."""

    def __init__(self) -> None:
        self.foreign_ids = 0


def registry_entry(reader: CloudRegistryReader, registry: Message, summary: Summary) -> tuple[dict, list[dict]]:
    """The registry's seed entry and its scan results (top-level seed entries)."""
    entry = add_found(
        registry_head(registry),
        access_bindings=reader.access_bindings(
            f"{API}.RegistryService/ListAccessBindings", registry.id, "registry access bindings"
        ),
        ip_permissions=reader.ip_permissions(registry.id),
        scan_policy=reader.scan_policy(
            f"{API}.ScanPolicyService/GetByRegistry", registry.id, "Cloud Registry scan policies"
        ),
    )
    policies = reader.lifecycle_policies(registry.id) or []
    if policies:
        entry["lifecycle_policies"] = policies
    nodes = reader.nodes(registry.id)
    kinds = {node.id: enum_name(node, "kind", f"artifact {node.id}") for node in nodes}
    folders, packages, artifacts = (
        [n for n in nodes if kinds[n.id] == kind] for kind in ("FOLDER", "PACKAGE", "ARTIFACT")
    )
    entry["folders"] = []
    for folder in sorted(folders, key=_full_path):
        item = {
            "path": _full_path(folder),
            "created_at": format_timestamp(ns(folder.created_at, f"folder {folder.id}: created_at")),
            "created_by": folder.created_by,
        }
        bindings = reader.node_bindings(folder.id)
        if bindings:
            item["access_bindings"] = bindings
        entry["folders"].append(item)
    if not entry["folders"]:
        del entry["folders"]
    by_image: dict[tuple[str, str], list[Message]] = {}
    for artifact in artifacts:
        if artifact.content.docker.manifest_digest:
            by_image.setdefault((artifact.path.strip("/"), artifact.content.docker.manifest_digest), []).append(
                artifact
            )
    holding = {path for path, _ in by_image}
    repositories = []
    for package in sorted(packages, key=_full_path):
        item = {"path": _full_path(package), "id": package.id, "kept": _full_path(package) not in holding}
        bindings = reader.node_bindings(package.id)
        if bindings:
            item["access_bindings"] = bindings
        repositories.append(item)
    entry["repositories"] = repositories
    images, results, bound, marked = [], [], [], []
    until = time.time_ns() + _longest_cooldown_ns(policies)
    package_ids = {_full_path(package): package.id for package in packages}
    for (path, _), group in sorted(
        by_image.items(), key=lambda item: min(a.created_at.ToNanoseconds() for a in item[1])
    ):
        image_id, whole = _image_id(group)
        summary.foreign_ids += not whole
        images.append(image_entry(path, group, image_id))
        for artifact in sorted(group, key=lambda artifact: artifact.name):
            full_path = _full_path(artifact)
            bindings = reader.node_bindings(artifact.id)
            if bindings:
                bound.append({"path": full_path, "access_bindings": bindings})
            if enum_name(artifact, "status", f"artifact {artifact.id}") == "DELETED":
                marked.append({"path": full_path, "until": format_timestamp(until)})
            for result, vulnerabilities in reader.scan_results(artifact.id) or ():
                what = f"scan result {result.id}"
                results.append({
                    "id": result.id, "image_id": image_id, "repository_id": package_ids.get(path, ""),
                    "folder_id": registry.folder_id, "status": enum_name(result, "status", what),
                    "scanned_at": format_timestamp(ns(result.scanned_at, f"{what}: scanned_at")),
                    "vulnerabilities": [vulnerability_entry(v, what) for v in vulnerabilities],
                    "artifact_id": copy_id(artifact, image_id),
                })  # fmt: skip
    if bound:
        entry["artifact_access_bindings"] = bound
    if marked:
        entry["soft_deleted_artifacts"] = marked
    entry["images"] = images
    reader.say(
        f"Cloud Registry registry {registry.id} ({registry.name}, {entry['kind']}): {len(folders)} folders, "
        f"{len(packages)} packages, {len(artifacts)} artifacts"
    )
    return entry, results


def take_cloud_snapshot(
    reader: CloudRegistryReader, *, folder_id: str | None = None, registry_id: str | None = None
) -> tuple[list[dict], list[dict]] | None:
    """The Cloud Registry registries of ``folder_id`` (or the one ``registry_id``) as seed entries,
    and their scan results; None if the endpoint does not serve Cloud Registry (or, by id, has
    no such registry)."""
    registries = reader.registries(folder_id, registry_id)
    if registries is None:
        return None
    summary = Summary()
    entries, results = [], []
    for registry in registries:
        entry, found = registry_entry(reader, registry, summary)
        entries.append(entry)
        results += found
    if summary.foreign_ids:
        reader.say(
            f"note: {summary.foreign_ids} images' artifact ids are not of this emulator's form: each image keeps "
            "one of its artifacts' ids as its own, and the seeded emulator serves its own ids for its tags (their "
            "scan results go with them)"
        )
    return entries, results
