"""One codec per record: each record of the state as JSON (the seed format, the state file, the
control plane's answers, snapshots) and back from JSON the emulator itself wrote (the remote
client's answers). Untrusted input (a seed, a request body) is parsed by emulator.state.seed,
which names every bad field; timestamps are RFC 3339 with nanoseconds both ways."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from emulator.api.values import ValueProblem, check_timestamp
from emulator.state.lifecycle import DryRunResult, LifecyclePolicy, LifecycleRule, LifecycleRun
from emulator.state.records import (
    AccessBinding,
    Blob,
    Image,
    IpPermission,
    Operation,
    Pending,
    Registry,
    Repository,
)
from emulator.state.scans import ScanPolicy, ScanResult, Vulnerability

_MICROSECOND = timedelta(microseconds=1)

_SECOND = timedelta(seconds=1)

_NAIVE_EPOCH = datetime(1970, 1, 1)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?"
)


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the bad entry."""


def parse_timestamp(value: Any, where: str) -> int:
    """RFC 3339 text (nanosecond precision) or a datetime -> ns since the epoch; no offset means UTC.
    Integer arithmetic throughout: exact for every moment of years 1 to 9999, whatever the offset."""
    if isinstance(value, datetime):
        moment = value if value.utcoffset() is not None else value.replace(tzinfo=timezone.utc)
        ns = (moment - _EPOCH) // _MICROSECOND * 1_000
    else:
        match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise SeedError(f"{where}: must be an RFC 3339 timestamp such as 2026-01-02T10:00:00Z, got {value!r}")
        offset = match.group("offset") or "Z"
        offset = "+00:00" if offset in ("Z", "z") else offset  # Python 3.10 reads no "Z"
        try:
            moment = datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}{offset}")
        except ValueError:
            raise SeedError(f"{where}: not a real date and time: {value!r}") from None
        nanos = int((match.group("fraction") or "0").ljust(9, "0"))
        ns = (moment - _EPOCH) // _SECOND * 1_000_000_000 + nanos
    return _checked(check_timestamp, ns, where)


def format_timestamp(ns: int) -> str:
    """ns since the epoch -> RFC 3339 in UTC, exact to the nanosecond, the year always four
    digits (strftime's %Y writes year 999 as "999", which no RFC 3339 reader accepts)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    text = (_NAIVE_EPOCH + timedelta(seconds=seconds)).isoformat()
    return text + (f".{nanos:09d}".rstrip("0") if nanos else "") + "Z"


def _checked(check: Callable[[Any, str], Any], value: Any, where: str) -> Any:
    """A value check from emulator.api.values, its refusal reported as a SeedError."""
    try:
        return check(value, where)
    except ValueProblem as problem:
        raise SeedError(str(problem)) from None


def pending_json(pending: Pending) -> dict:
    entry: dict[str, Any] = {"action": pending.action.value, "target": pending.target}
    if pending.polls_left is not None:
        entry["polls_left"] = pending.polls_left
        if pending.polls_total is not None:  # how far it has got (a migration's dashboards show it)
            entry["polls_total"] = pending.polls_total
    else:
        entry["due_at"] = format_timestamp(pending.due_ns)
    return entry


def access_binding_json(binding: AccessBinding) -> dict:
    return {"role_id": binding.role_id, "subject": {"id": binding.subject_id, "type": binding.subject_type}}


def repository_json(repository: Repository) -> dict:
    entry = {"path": repository.path, "id": repository.id, "kept": repository.kept}
    if repository.access_bindings:
        entry["access_bindings"] = [access_binding_json(binding) for binding in repository.access_bindings]
    return entry


def blob_json(blob: Blob) -> dict:
    return {"id": blob.id, "digest": blob.digest, "size": blob.size, "urls": list(blob.urls)}


def image_json(image: Image, complete: bool = True) -> dict:
    """An image in the seed format. ``complete=False`` leaves out the fields that were not
    given (derived blobs, a summed compressed_size): loading derives them again, identically."""
    entry = {
        "repository": image.repository,
        "id": image.id,
        "digest": image.digest,
        "tags": list(image.tags),
        "created_at": format_timestamp(image.created_at_ns),
    }
    if image.last_modified_ns != image.created_at_ns:  # a tag moved off it: written only then
        entry["last_modified"] = format_timestamp(image.last_modified_ns)
    if complete:
        entry["compressed_size"] = image.compressed_size
        entry["layers"] = [blob_json(layer) for layer in image.layers]
        entry["config"] = blob_json(image.config)
        return entry
    given = image.given()
    if "compressed_size" in given:
        entry["compressed_size"] = given["compressed_size"]
    if "layers" in given:
        entry["layers"] = [blob_json(layer) for layer in given["layers"]]
    if "config" in given:
        entry["config"] = blob_json(given["config"])
    return entry


def registry_json(registry: Registry) -> dict:
    entry = {
        "id": registry.id,
        "folder_id": registry.folder_id,
        "name": registry.name,
        "created_at": format_timestamp(registry.created_at_ns),
        "labels": dict(registry.labels),
    }
    if registry.status != "ACTIVE":  # being created or deleted by a pending operation
        entry["status"] = registry.status
    if registry.access_bindings:
        entry["access_bindings"] = [access_binding_json(binding) for binding in registry.access_bindings]
    if registry.ip_permissions:
        entry["ip_permissions"] = [{"action": p.action, "ip": p.ip} for p in registry.ip_permissions]
    if registry.kind is not None:  # a Cloud Registry registry
        entry.update(kind=registry.kind, type=registry.type)
        if registry.description:
            entry["description"] = registry.description
        if registry.properties:
            entry["properties"] = dict(registry.properties)
        if registry.include_patterns or registry.exclude_patterns:
            entry["pattern_filter"] = {
                "include_patterns": list(registry.include_patterns),
                "exclude_patterns": list(registry.exclude_patterns),
            }
        if registry.modified_at_ns is not None:
            entry["modified_at"] = format_timestamp(registry.modified_at_ns)
    return entry


def folder_json(folder) -> dict:
    """A Cloud Registry folder (emulator.state.artifacts.Folder) in the seed format."""
    entry = {"path": folder.path, "created_at": format_timestamp(folder.created_at_ns)}
    if folder.created_by:
        entry["created_by"] = folder.created_by
    if folder.access_bindings:
        entry["access_bindings"] = [access_binding_json(binding) for binding in folder.access_bindings]
    return entry


def cloud_policy_json(policy, runs) -> dict:
    """A Cloud Registry lifecycle policy (emulator.state.cloud_lifecycle) and its dry runs, in the seed format."""
    entry = {
        "id": policy.id, "name": policy.name, "description": policy.description, "state": policy.state,
        "rules": list(policy.rules), "created_at": format_timestamp(policy.created_at_ns),
        "modified_at": format_timestamp(policy.modified_at_ns), "created_by": policy.created_by,
        "modified_by": policy.modified_by,
    }  # fmt: skip
    if runs:
        entry["dry_run_results"] = [
            {
                "id": run.id,
                "run_at": format_timestamp(run.run_at_ns),
                "policy_snapshot": list(run.policy_snapshot),
                "affected": [
                    {"path": a.path, "artifact_id": a.artifact_id, "rule_type": a.rule_type, "rule_index": a.rule_index}
                    for a in run.affected
                ],
            }
            for run in runs
        ]
    return entry


def operation_json(operation: Operation) -> dict:
    entry = {
        "id": operation.id,
        "description": operation.description,
        "created_at": format_timestamp(operation.created_at_ns),
        "created_by": operation.created_by,
        "modified_at": format_timestamp(operation.modified_at_ns),
        "done": operation.done,
        "metadata_type": operation.metadata_type,
        "metadata": dict(operation.metadata),
        "response_type": operation.response_type,
    }
    if operation.error is not None:
        entry["error"] = {"code": operation.error[0], "message": operation.error[1]}
    if operation.folder_id:
        entry["folder_id"] = operation.folder_id
    if operation.idempotency_key is not None:
        entry["idempotency_key"] = operation.idempotency_key
    if operation.response is not None:
        entry["response"] = operation.response
    if operation.request_digest is not None:
        entry["request_digest"] = operation.request_digest
    if operation.pending is not None:
        entry["pending"] = pending_json(operation.pending)
    return entry


def lifecycle_rule_json(rule: LifecycleRule) -> dict:
    """A rule in protobuf's JSON mapping of LifecycleRule (fields at their defaults left out)."""
    entry: dict[str, Any] = {}
    if rule.description:
        entry["description"] = rule.description
    if rule.expire_period_ns:
        entry["expire_period"] = f"{rule.expire_period_ns // 1_000_000_000}s"  # whole days: whole seconds
    if rule.tag_regexp:
        entry["tag_regexp"] = rule.tag_regexp
    if rule.untagged:
        entry["untagged"] = True
    if rule.retained_top:
        entry["retained_top"] = rule.retained_top
    return entry


def lifecycle_policy_json(policy: LifecyclePolicy, results: list[DryRunResult] = (), complete: bool = True) -> dict:
    """A policy in the seed format (its repository is the entry holding it), with its dry runs' results."""
    entry = {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "status": policy.status,
        "created_at": format_timestamp(policy.created_at_ns),
        "rules": [lifecycle_rule_json(rule) for rule in policy.rules],
    }
    if results:
        entry["dry_run_results"] = [dry_run_result_json(result, complete) for result in results]
    return entry


def dry_run_result_json(result: DryRunResult, complete: bool = True) -> dict:
    return {
        "id": result.id,
        "run_at": format_timestamp(result.run_at_ns),
        "affected_images": [image_json(image, complete) for image in result.images.values()],
    }


def lifecycle_policy_record_json(policy: LifecyclePolicy) -> dict:
    """A policy as the control plane answers it: naming its repository and registry."""
    return {"repository_id": policy.repository_id, "registry_id": policy.registry_id, **lifecycle_policy_json(policy)}


def lifecycle_policy_from_json(entry: dict) -> LifecyclePolicy:
    return LifecyclePolicy(
        id=entry["id"],
        repository_id=entry["repository_id"],
        name=entry["name"],
        description=entry["description"],
        status=entry["status"],
        created_at_ns=parse_timestamp(entry["created_at"], "created_at"),
        rules=tuple(
            LifecycleRule(
                description=rule.get("description", ""),
                expire_period_ns=int(rule.get("expire_period", "0s").removesuffix("s")) * 1_000_000_000,
                tag_regexp=rule.get("tag_regexp", ""),
                untagged=rule.get("untagged", False),
                retained_top=int(rule.get("retained_top", 0)),
            )
            for rule in entry["rules"]
        ),
        registry_id=entry["registry_id"],
    )


def lifecycle_run_json(run: LifecycleRun) -> dict:
    return {
        "lifecycle_policy_id": run.lifecycle_policy_id,
        "deleted": list(run.deleted),
        "operations": list(run.operations),
        "kept": [{"image_id": image_id, "reason": reason} for image_id, reason in run.kept],
        **({"soft_deleted": list(run.soft_deleted)} if run.soft_deleted else {}),
    }


def lifecycle_run_from_json(entry: dict) -> LifecycleRun:
    return LifecycleRun(
        entry["lifecycle_policy_id"],
        tuple(entry["deleted"]),
        tuple(entry["operations"]),
        tuple((kept["image_id"], kept["reason"]) for kept in entry["kept"]),
        tuple(entry.get("soft_deleted", ())),
    )


def vulnerability_json(vulnerability: Vulnerability) -> dict:
    """A vulnerability in protobuf's JSON mapping of Vulnerability (empty package fields left out)."""
    package = {
        field: getattr(vulnerability, field)
        for field in ("name", "link", "package", "source", "version", "fixed_by", "origin", "type")
        if getattr(vulnerability, field)
    }
    return {"severity": vulnerability.severity, "package": package}


def scan_result_record_json(result: ScanResult) -> dict:
    """A scan result in the seed format (its vulnerabilities as found)."""
    return {
        "id": result.id,
        "image_id": result.image_id,
        "repository_id": result.repository_id,
        "folder_id": result.folder_id,
        "status": result.status,
        "scanned_at": format_timestamp(result.scanned_at_ns),
        "vulnerabilities": [vulnerability_json(v) for v in result.vulnerabilities],
        **({"artifact_id": result.artifact_id} if result.artifact_id else {}),
    }


def scan_policy_json(policy: ScanPolicy) -> dict:
    """A registry's scan policy in the seed format (its rules in protobuf's JSON mapping of ScanRules)."""
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "created_at": format_timestamp(policy.created_at_ns),
        "rules": policy.rules,
        "disabled": policy.disabled,
        **({"scan_lang_packages": True} if policy.scan_lang_packages else {}),
    }


def image_record_json(image) -> dict:
    return {"registry_id": image.registry_id, "name": image.name, **image_json(image)}


def repository_record_json(repository) -> dict:
    return {"registry_id": repository.registry_id, "name": repository.name, **repository_json(repository)}


def _blob(entry: dict) -> Blob:
    return Blob(id=entry["id"], digest=entry["digest"], size=entry["size"], urls=tuple(entry.get("urls", ())))


def registry_from_json(entry: dict) -> Registry:
    return Registry(
        id=entry["id"],
        folder_id=entry["folder_id"],
        name=entry["name"],
        created_at_ns=parse_timestamp(entry["created_at"], "created_at"),
        labels=dict(entry.get("labels", {})),
        status=entry.get("status", "ACTIVE"),
        access_bindings=_access_bindings(entry),
        ip_permissions=tuple(IpPermission(item["action"], item["ip"]) for item in entry.get("ip_permissions", ())),
        kind=entry.get("kind"),
        type=entry.get("type", "LOCAL"),
        description=entry.get("description", ""),
        properties=dict(entry.get("properties", {})),
        include_patterns=tuple(entry.get("pattern_filter", {}).get("include_patterns", ())),
        exclude_patterns=tuple(entry.get("pattern_filter", {}).get("exclude_patterns", ())),
        modified_at_ns=parse_timestamp(entry["modified_at"], "modified_at") if "modified_at" in entry else None,
    )


def _access_bindings(entry: dict) -> tuple[AccessBinding, ...]:
    return tuple(
        AccessBinding(item["role_id"], item["subject"]["id"], item["subject"]["type"])
        for item in entry.get("access_bindings", ())
    )


def repository_from_json(entry: dict, registry_id: str) -> Repository:
    return Repository(
        id=entry["id"],
        registry_id=registry_id,
        name=f"{registry_id}/{entry['path']}",
        path=entry["path"],
        kept=entry["kept"],
        access_bindings=_access_bindings(entry),
    )


def image_from_json(entry: dict, registry_id: str) -> Image:
    return Image(
        id=entry["id"],
        registry_id=registry_id,
        repository=entry["repository"],
        name=f"{registry_id}/{entry['repository']}",
        digest=entry["digest"],
        compressed_size=entry["compressed_size"],
        config=_blob(entry["config"]) if entry.get("config") else None,
        layers=tuple(_blob(layer) for layer in entry.get("layers", ())),
        tags=list(entry.get("tags", ())),
        created_at_ns=parse_timestamp(entry["created_at"], "created_at"),
        last_modified_ns=parse_timestamp(entry["last_modified"], "last_modified")
        if entry.get("last_modified")
        else None,
    )


def operation_from_json(entry: dict) -> Operation:
    error = entry.get("error")
    return Operation(
        id=entry["id"],
        description=entry["description"],
        created_at_ns=parse_timestamp(entry["created_at"], "created_at"),
        created_by=entry["created_by"],
        modified_at_ns=parse_timestamp(entry["modified_at"], "modified_at"),
        done=entry["done"],
        metadata_type=entry["metadata_type"],
        metadata=dict(entry["metadata"]),
        response_type=entry.get("response_type"),
        response=entry.get("response"),
        error=(error["code"], error["message"]) if error else None,
        folder_id=entry.get("folder_id", ""),
        idempotency_key=entry.get("idempotency_key"),
        request_digest=entry.get("request_digest"),
    )


def image_record_from_json(entry: dict) -> Image:
    """An image from its control-plane form (image_record_json: it names its registry)."""
    return image_from_json(entry, entry["registry_id"])


def repository_record_from_json(entry: dict) -> Repository:
    return repository_from_json(entry, entry["registry_id"])


def datetime_from_json(text: str) -> datetime:
    return _EPOCH + timedelta(microseconds=parse_timestamp(text, "time") // 1000)
