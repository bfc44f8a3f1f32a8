"""Seed data: the JSON format of ``--seed``, ``--state-file`` and ``Emulator.load_seed``.

A seed either loads whole or not at all: any bad entry raises SeedError naming it
(``registries[0].images[2].digest: ...``) and everything already added is taken out.
The same parsers check the keyword arguments of ``Emulator.add_registry/add_image``,
so the Python API and the file format cannot drift apart. Every string of every entry
must be one the wire can carry (UTF-8: no lone surrogate), checked once, in _check_keys.

The state file is this format too, written atomically (see write_state_file).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from google.protobuf import json_format
from google.rpc import code_pb2

from emulator.api.catalogue import Catalogue
from emulator.api.errors import ApiError, InvalidArgument, shown
from emulator.api.validation import violations
from emulator.api.values import INT64_MAX, check_digest, check_id, check_size, lone_surrogate
from emulator.api.wire import CLOUD_REGISTRY, known_message, message_class
from emulator.state.cloud_lifecycle import HARD, SOFT, AffectedArtifact, CloudDryRun
from emulator.state.codecs import (
    SeedError,
    _checked,
    access_binding_json,
    cloud_policy_json,
    folder_json,
    format_timestamp,
    image_json,
    lifecycle_policy_json,
    operation_json,
    parse_timestamp,
    registry_json,
    repository_json,
    scan_policy_json,
    scan_result_record_json,
    vulnerability_json,
)
from emulator.state.collector import collector_paused
from emulator.state.images import TAG_PATTERN
from emulator.state.lifecycle import DryRunResult, LifecyclePolicy, LifecycleRule
from emulator.state.migrations import COMPLETED, migration_from_json, migration_json
from emulator.state.operation_modes import MAX_POLLS, modes_json, parse_modes
from emulator.state.records import (
    REGISTRY_STATUSES,
    AccessBinding,
    Action,
    Blob,
    Image,
    IpPermission,
    Operation,
    Pending,
    Registry,
    Repository,
)
from emulator.state.registries import MAX_IP_PERMISSIONS
from emulator.state.repositories import MAX_ACCESS_BINDINGS, REPOSITORY_PATH
from emulator.state.scans import ScanPolicy, ScanResult, Vulnerability
from emulator.state.stages import ACTIVE, parse_stage
from emulator.state.store import Store

# A Cloud Registry registry's (one with a kind), with "modified_at", "folders", "artifact_access_bindings".
_CLOUD_REGISTRY_KEYS = {"kind", "type", "description", "properties", "pattern_filter"}
_FOLDER_KEYS = {"path", "created_at", "created_by", "access_bindings"}
_CLOUD_POLICY_KEYS = {
    "id", "name", "description", "state", "rules", "created_at", "modified_at", "created_by", "modified_by",
    "dry_run_results",
}  # fmt: skip
_CLOUD_DRY_RUN_KEYS = {"id", "run_at", "policy_snapshot", "affected"}
_AFFECTED_KEYS = {"path", "artifact_id", "rule_type", "rule_index"}
_ARTIFACT_BINDING_KEYS = {"path", "access_bindings"}
_REGISTRY_KEYS = {
    "id", "folder_id", "name", "created_at", "labels", "images", "repositories", "access_bindings", "ip_permissions",
    "status", "scan_policy", "modified_at", "folders", "artifact_access_bindings", "lifecycle_policies",
    "soft_deleted_artifacts", *_CLOUD_REGISTRY_KEYS,
}  # fmt: skip
_SCAN_POLICY_KEYS = {"id", "name", "description", "created_at", "rules", "disabled", "scan_lang_packages"}
_REPORT_KEYS = {"digest", "vulnerabilities"}
_SCAN_RESULT_KEYS = {
    "id", "image_id", "repository_id", "folder_id", "status", "scanned_at", "vulnerabilities", "artifact_id",
}  # fmt: skip
_REPOSITORY_KEYS = {"path", "id", "kept", "access_bindings", "lifecycle_policies"}
_POLICY_KEYS = {"id", "name", "description", "status", "created_at", "rules", "dry_run_results"}
_DRY_RUN_KEYS = {"id", "run_at", "affected_images"}
_IMAGE_KEYS = {
    "repository", "id", "digest", "tags", "created_at", "last_modified", "compressed_size", "config", "layers",
    "manifests",
}  # fmt: skip
_BLOB_KEYS = {"id", "digest", "size", "urls"}
_OPERATION_KEYS = {
    "id", "description", "created_at", "created_by", "modified_at", "done",
    "metadata_type", "metadata", "response_type", "response", "error", "folder_id", "idempotency_key",
    "request_digest", "pending",
}  # fmt: skip
# Fields holding entries that are parsed, and so string-checked, on their own: not walked twice.
_ENTRY_FIELDS = frozenset(
    {
        "registries",
        "operations",
        "images",
        "config",
        "layers",
        "error",
        "repositories",
        "access_bindings",
        "lifecycle_policies",
        "dry_run_results",
        "affected_images",
    }
)
_STATUS_CODES = set(code_pb2.Code.keys()) - {"OK"}


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _expect(value: Any, kind: type | tuple, where: str | tuple[str, str], what: str) -> Any:
    """``value`` if it is a ``kind``. ``where``: a path, or (path, key) joined only on failure (the
    per-image path: a million images are a million paths never shown)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SeedError(f"{_at(*where) if isinstance(where, tuple) else where}: must be {what}, got {value!r}")
    return value


def _size(value: Any, where: str) -> int:
    return _checked(check_size, value, where)


def _strings(value: Any, where: str | tuple[str, str]) -> list[str]:
    _expect(value, (list, tuple), where, "a list of strings")
    if not all(isinstance(item, str) for item in value):
        where = _at(*where) if isinstance(where, tuple) else where
        for position, item in enumerate(value):
            _expect(item, str, f"{where}[{position}]", "a string")
    return list(value)


def _check_text(text: str, where: str, what: str = "") -> None:
    """A string the wire can carry: protobuf strings are UTF-8, which has no lone surrogates
    (JSON's "\\ud800" makes one). The message shows the text escaped, so it prints anywhere."""
    position = lone_surrogate(text)
    if position is not None:
        shown = ascii(text) if len(text) <= 80 else ascii(text[:80]) + "..."
        raise SeedError(
            f"{where}: {what}holds a lone surrogate ({ascii(text[position])[1:-1]}), which UTF-8 and so the wire "
            f"cannot carry, got {shown}"
        )


def _ascii_strings(value: list | tuple | dict) -> bool:
    """True if ``value`` holds only ASCII strings (as items, or keys and values): the fast path,
    one C-level pass. False also when it holds anything else, which is then walked."""
    try:
        if isinstance(value, dict):
            return "".join(value).isascii() and "".join(value.values()).isascii()
        return "".join(value).isascii()
    except TypeError:  # not all strings
        return False


def _check_strings(entry: dict, where: str) -> None:
    """Every string of an entry's values and everything nested in them (its own field names
    are checked only if unknown: known ones are ASCII), except the entries of _ENTRY_FIELDS,
    which are checked when they are parsed. ASCII is the fast path (seeds of a million images
    are almost all ASCII); anything else is walked, naming paths."""
    pending: list[tuple[Any, str]] = []
    for key, value in entry.items():
        if isinstance(value, str):
            if not value.isascii():
                _check_text(value, _at(where, key))
        elif isinstance(value, (dict, list, tuple)) and key not in _ENTRY_FIELDS and not _ascii_strings(value):
            pending.append((value, _at(where, str(key))))
    while pending:  # a loop, not recursion: any depth
        value, where = pending.pop()
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str):
                    _check_text(key, where, f"the key {key!a} ")
            items = ((f"{where}.{key}", item) for key, item in value.items())
        else:
            items = ((f"{where}[{position}]", item) for position, item in enumerate(value))
        for path, item in items:
            if isinstance(item, str):
                if not item.isascii():
                    _check_text(item, path)
            elif isinstance(item, (dict, list, tuple)):
                pending.append((item, path))


def _check_keys(entry: Any, allowed: set[str], required: set[str], where: str) -> dict:
    """An entry: an object of allowed fields, with the required ones, every string sendable."""
    _expect(entry, dict, where or "arguments", "an object")
    _check_strings(entry, where)
    if entry.keys() <= allowed and required <= entry.keys():
        return entry
    unknown = sorted(set(entry) - allowed, key=str)
    for key in unknown:
        if isinstance(key, str):
            _check_text(key, where or "arguments", f"the field name {key!a} ")
    if unknown:
        raise SeedError(f"{_at(where, unknown[0])}: unknown field (allowed: {', '.join(sorted(allowed))})")
    for key in sorted(required - set(entry)):
        raise SeedError(f"{_at(where, key)}: is required")
    return entry


def parse_blob(entry: Any, store: Store, where: str, *, default_size: tuple[int, int]) -> Blob:
    if isinstance(entry, Blob):
        entry = {"id": entry.id, "digest": entry.digest, "size": entry.size, "urls": list(entry.urls)}
    _check_keys(entry, _BLOB_KEYS, set(), where)
    size = entry.get("size")
    size = store.ids.new_size(*default_size) if size is None else _size(size, _at(where, "size"))
    digest = entry.get("digest") or store.ids.new_digest()
    _checked(check_digest, digest, _at(where, "digest"))
    blob_id = _expect(entry.get("id") or store.ids.new_id(), str, _at(where, "id"), "a string")
    return Blob(id=blob_id, digest=digest, size=size, urls=tuple(_strings(entry.get("urls", []), _at(where, "urls"))))


def image_arguments(entry: Any, store: Store, where: str = "") -> dict:
    """Keyword arguments for Store.add_image from one seed image entry."""
    _check_keys(entry, _IMAGE_KEYS, {"repository"}, where)
    arguments: dict[str, Any] = {"repository": _expect(entry["repository"], str, (where, "repository"), "a string")}
    for key in ("id", "digest"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, (where, key), "a string")
    arguments["tags"] = _strings(entry.get("tags") or [], (where, "tags"))
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], _at(where, "created_at"))
    if entry.get("last_modified") is not None:
        arguments["last_modified_ns"] = parse_timestamp(entry["last_modified"], _at(where, "last_modified"))
    if entry.get("compressed_size") is not None:
        arguments["compressed_size"] = _size(entry["compressed_size"], _at(where, "compressed_size"))
    if entry.get("config") is not None:
        arguments["config"] = parse_blob(entry["config"], store, _at(where, "config"), default_size=(1_000, 20_000))
    if entry.get("layers") is not None:
        layers = _expect(entry["layers"], (list, tuple), _at(where, "layers"), "a list of blobs")
        arguments["layers"] = [
            parse_blob(layer, store, f"{_at(where, 'layers')}[{position}]", default_size=(1_000, 30_000_000))
            for position, layer in enumerate(layers)
        ]
        if "compressed_size" not in arguments and sum(layer.size for layer in arguments["layers"]) > INT64_MAX:
            raise SeedError(
                f"{_at(where, 'layers')}: sizes sum beyond 2^63-1, so compressed_size (their sum unless given) "
                "would not fit int64: give compressed_size"
            )
    return arguments


def registry_arguments(entry: Any, where: str = "") -> dict:
    """Keyword arguments for Store.add_registry from one seed registry entry (images aside)."""
    _check_keys(entry, _REGISTRY_KEYS, {"folder_id"}, where)
    arguments: dict[str, Any] = {"folder_id": entry["folder_id"]}
    for key in ("id", "name"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, _at(where, key), "a string")
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], _at(where, "created_at"))
    labels = _expect(entry.get("labels") or {}, dict, _at(where, "labels"), "an object of strings")
    for key, value in labels.items():
        _expect(key, str, _at(where, "labels"), "an object with string keys")
        _expect(value, str, f"{_at(where, 'labels')}.{key}", "a string")
    arguments["labels"] = labels
    # The sizes CreateRegistryRequest allows (its annotations), so no state holds a registry whose
    # List page cannot be sent; not its patterns: seeds may hold any text the wire carries.
    if len(arguments.get("name", "")) > 63:
        raise SeedError(f"{_at(where, 'name')}: at most 63 characters, got {len(arguments['name'])}")
    if len(labels) > 64:
        raise SeedError(f"{_at(where, 'labels')}: at most 64 labels, got {len(labels)}")
    for key, value in labels.items():
        if not 1 <= len(key) <= 63 or len(value) > 63:
            raise SeedError(f"{_at(where, 'labels')}.{shown(key, 40)}: keys 1-63 characters, values at most 63")
    if entry.get("status") is not None:
        if entry["status"] not in REGISTRY_STATUSES:
            raise SeedError(
                f"{_at(where, 'status')}: must be one of {', '.join(REGISTRY_STATUSES)}, got {entry['status']!r}"
            )
        arguments["status"] = entry["status"]
    arguments.update(_cloud_registry_arguments(entry, where))
    return arguments


def _cloud_registry_arguments(entry: dict, where: str) -> dict:
    """A Cloud Registry registry's fields (it has a ``kind``; ``type`` LOCAL unless given), checked by
    CreateRegistryRequest's annotations, as Create would check them."""
    given = {key: entry[key] for key in sorted(_CLOUD_REGISTRY_KEYS) if entry.get(key) is not None}
    if "kind" not in given:
        if given:
            raise SeedError(f"{_at(where, min(given))}: only a Cloud Registry registry (one with a kind) has it")
        for key in (
            "modified_at",
            "folders",
            "artifact_access_bindings",
            "lifecycle_policies",
            "soft_deleted_artifacts",
        ):
            if entry.get(key) is not None:
                raise SeedError(f"{_at(where, key)}: only a Cloud Registry registry (one with a kind) has it")
        return {}
    given.setdefault("type", "LOCAL")
    message = _api_message(
        {"folder_id": entry["folder_id"], **given}, f"{CLOUD_REGISTRY}.CreateRegistryRequest", where or "registry"
    )
    registry_type = message_class(f"{CLOUD_REGISTRY}.Registry")
    arguments = {
        "kind": registry_type.Kind.Name(message.kind),
        "type": registry_type.Type.Name(message.type),
        "description": message.description,
        "properties": dict(message.properties),
        "include_patterns": tuple(message.pattern_filter.include_patterns),
        "exclude_patterns": tuple(message.pattern_filter.exclude_patterns),
    }
    if entry.get("modified_at") is not None:
        arguments["modified_at_ns"] = parse_timestamp(entry["modified_at"], _at(where, "modified_at"))
    return arguments


def _api_message(entry: Any, message_type: str, where: str):
    """An entry in protobuf's JSON mapping of an API message, checked by the API's own
    annotations (the rules a request carrying it would be held to)."""
    try:
        message = json_format.ParseDict(_expect(entry, dict, where, "an object"), message_class(message_type)())
    except json_format.ParseError as problem:
        raise SeedError(f"{where}: does not fit {message_type}: {problem}") from None
    for field, text in violations(message):
        raise SeedError(f"{where}.{field}: {text}")
    return message


def access_bindings_of(entries: Any, where: str) -> list[AccessBinding]:
    """Access bindings from entries like {"role_id": "...", "subject": {"id": "...", "type": "..."}}."""
    bindings = []
    for position, entry in enumerate(_expect(entries, list, where, "a list")):
        message = _api_message(entry, "yandex.cloud.access.AccessBinding", f"{where}[{position}]")
        bindings.append(AccessBinding(message.role_id, message.subject.id, message.subject.type))
    return _at_most(bindings, MAX_ACCESS_BINDINGS, where)


def ip_permissions_of(entries: Any, where: str) -> list[IpPermission]:
    """IP permissions from entries like {"action": "PULL", "ip": "10.0.0.0/8"}."""
    permissions = []
    for position, entry in enumerate(_expect(entries, list, where, "a list")):
        message = _api_message(entry, "yandex.cloud.containerregistry.v1.IpPermission", f"{where}[{position}]")
        permissions.append(IpPermission(type(message).Action.Name(message.action), message.ip))
    return _at_most(permissions, MAX_IP_PERMISSIONS, where)


def _at_most(items: list, limit: int, where: str) -> list:
    """The store keeps at most ``limit`` distinct items per resource: say so here, naming the entry."""
    distinct = len(dict.fromkeys(items))
    if distinct > limit:
        raise SeedError(f"{where}: at most {limit} (distinct) per resource, got {distinct}")
    return items


def repository_arguments(entry: Any, where: str = "") -> dict:
    """Keyword arguments for Store.add_repository (registry aside) from one seed repository entry."""
    _check_keys(entry, _REPOSITORY_KEYS, {"path"}, where)
    arguments: dict[str, Any] = {"path": _expect(entry["path"], str, _at(where, "path"), "a string")}
    if not REPOSITORY_PATH.fullmatch(arguments["path"]):
        raise SeedError(f"{_at(where, 'path')}: must match {REPOSITORY_PATH.pattern}, got {arguments['path']!r}")
    if entry.get("id") is not None:
        arguments["id"] = _expect(entry["id"], str, _at(where, "id"), "a string")
    arguments["kept"] = _expect(entry.get("kept", True), bool, _at(where, "kept"), "true or false")
    return arguments


def operation_record(entry: Any, where: str) -> Operation:
    _check_keys(entry, _OPERATION_KEYS, {"id", "metadata_type"}, where)
    for key in ("metadata_type", "response_type"):
        if entry.get(key) is not None and not known_message(entry[key]):
            raise SeedError(f"{_at(where, key)}: not a message type the emulator knows: {entry[key]!r}")
    key = entry.get("idempotency_key")
    if key is not None:
        _expect(key, str, _at(where, "idempotency_key"), "a string")
    error = entry.get("error")
    if error is not None:
        _check_keys(error, {"code", "message"}, {"code", "message"}, _at(where, "error"))
        if error["code"] not in _STATUS_CODES:
            raise SeedError(f"{_at(where, 'error.code')}: not a gRPC status code name: {error['code']!r}")
        error = (error["code"], _expect(error["message"], str, _at(where, "error.message"), "a string"))
    metadata = _expect(entry.get("metadata", {}), dict, _at(where, "metadata"), "an object")
    for name, value in metadata.items():  # the API's metadata types hold ids (strings), flags (Cloud
        # Registry's scan policies repeat their request) and lists of ids (a migration's registries)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            continue
        if not isinstance(value, bool):
            _expect(value, str, f"{_at(where, 'metadata')}.{name}", "a string, true or false, or a list of strings")
    try:
        message_class(entry["metadata_type"])(**metadata)
    except (TypeError, ValueError) as problem:
        raise SeedError(f"{_at(where, 'metadata')}: does not fit {entry['metadata_type']}: {problem}") from None
    response = entry.get("response")
    if response is not None:
        if entry.get("response_type") is None:
            raise SeedError(f"{_at(where, 'response')}: needs response_type")
        _api_message(response, entry["response_type"], _at(where, "response"))
    digest = entry.get("request_digest")
    if digest is not None:
        _expect(digest, str, _at(where, "request_digest"), "a string")
    pending = pending_record(entry["pending"], _at(where, "pending")) if entry.get("pending") is not None else None
    done = _expect(entry.get("done", pending is None), bool, _at(where, "done"), "true or false")
    if pending is not None and done:
        raise SeedError(f"{_at(where, 'done')}: an operation with pending work is not done")
    return Operation(
        id=_expect(entry["id"], str, _at(where, "id"), "a string"),
        description=_expect(entry.get("description", ""), str, _at(where, "description"), "a string"),
        created_at_ns=parse_timestamp(entry.get("created_at", "1970-01-01T00:00:00Z"), _at(where, "created_at")),
        created_by=_expect(entry.get("created_by", ""), str, _at(where, "created_by"), "a string"),
        modified_at_ns=parse_timestamp(entry.get("modified_at", "1970-01-01T00:00:00Z"), _at(where, "modified_at")),
        done=done,
        metadata_type=_expect(entry["metadata_type"], str, _at(where, "metadata_type"), "a message name"),
        metadata=metadata,
        response_type=entry.get("response_type"),
        error=error,
        folder_id=_expect(entry.get("folder_id", ""), str, _at(where, "folder_id"), "a string"),
        idempotency_key=key,
        response=response,
        request_digest=digest,
        pending=pending,
    )


def pending_record(entry: Any, where: str) -> Pending:
    """{"action": "delete_image", "target": "<id>", "polls_left": N[, "polls_total": M]} or {..., "due_at": "<RFC 3339>"}."""
    _check_keys(entry, {"action", "target", "polls_left", "polls_total", "due_at"}, {"action", "target"}, where)
    names = [action.value for action in Action if action is not Action.NONE]
    if entry["action"] not in ("", *names):
        raise SeedError(f'{_at(where, "action")}: must be one of {", ".join(names)} or "", got {entry["action"]!r}')
    action = Action(entry["action"])
    target = _expect(entry["target"], str, _at(where, "target"), "a string")
    if ("polls_left" in entry) == ("due_at" in entry):
        raise SeedError(f"{where}: give exactly one of polls_left and due_at")
    if "polls_left" in entry:
        polls = _expect(entry["polls_left"], int, _at(where, "polls_left"), "an integer")
        if not 1 <= polls <= MAX_POLLS:
            raise SeedError(f"{_at(where, 'polls_left')}: must be from 1 to {MAX_POLLS}, got {polls}")
        total = _expect(entry.get("polls_total", polls), int, _at(where, "polls_total"), "an integer")
        if not polls <= total <= MAX_POLLS:
            raise SeedError(f"{_at(where, 'polls_total')}: must be from polls_left to {MAX_POLLS}, got {total}")
        return Pending(action, target, polls_left=polls, polls_total=total if "polls_total" in entry else None)
    return Pending(action, target, due_ns=parse_timestamp(entry["due_at"], _at(where, "due_at")))


def apply_seed(store: Store, data: Any, catalogue: Catalogue) -> tuple[list[Registry], list[Image]]:
    """Add every registry, image and operation of a seed to ``store``, all or nothing (``catalogue``:
    the methods its operation modes may name)."""
    _check_keys(
        data,
        {
            "registries",
            "operations",
            "operation_modes",
            "vulnerability_reports",
            "scan_results",
            "container_registry_stage",
            "clouds",
            "migrations",
        },
        {"registries"},
        "seed",
    )
    try:
        stage = parse_stage(data["container_registry_stage"]) if "container_registry_stage" in data else None
    except ValueError as error:
        raise SeedError(str(error)) from None
    clouds = _clouds(data.get("clouds", {}))
    try:
        migrations = [
            migration_from_json(entry, f"migrations[{m}]")
            for m, entry in enumerate(_expect(data.get("migrations", []), list, "migrations", "a list"))
        ]
    except ValueError as error:
        raise SeedError(str(error)) from None
    entries = _expect(data["registries"], list, "registries", "a list")
    try:
        modes = parse_modes(_expect(data.get("operation_modes", {}), dict, "operation_modes", "an object"), catalogue)
    except ValueError as error:
        raise SeedError(f"operation_modes: {error}") from None
    operations = [
        operation_record(entry, f"operations[{o}]")
        for o, entry in enumerate(_expect(data.get("operations", []), list, "operations", "a list"))
    ]
    seen: set[str] = set()
    held: dict[tuple[str, str], int] = {}  # (kind, target) -> the pending operation creating or deleting it
    for o, operation in enumerate(operations):
        if operation.id in seen:
            raise SeedError(f"operations[{o}].id: {operation.id!r} appears twice")
        seen.add(operation.id)
        work = operation.pending
        if work is not None and work.action is not Action.NONE:
            resource = (work.action.kind, work.target)
            if resource in held or store.log.holding(*resource):
                by = f"operations[{held[resource]}]" if resource in held else "an operation already loaded"
                raise SeedError(
                    f"operations[{o}].pending: {work.action.kind} {work.target} is already being created or deleted "
                    f"by {by} (one pending operation at a time per resource)"
                )
            held[resource] = o
    pending_runs = {
        o.pending.target for o in operations if o.pending is not None and o.pending.action is Action.MIGRATE
    }
    for m, record in enumerate(migrations):  # one not done is moved by its pending operation, or by nothing ever
        if (
            not record.done
            and record.run not in pending_runs
            and not store.log.holding(Action.MIGRATE.kind, record.run)
        ):
            raise SeedError(
                f"migrations[{m}]: not done, but no pending operation of the seed moves it (run {record.run})"
            )
    registries: list[Registry] = []
    images: list[Image] = []
    image_lists: list[tuple[Image, Any, str]] = []
    undo: list[Callable[[], object]] = []  # what puts back the reports and scan results it changed
    with store.bulk():
        try:
            for r, entry in enumerate(entries):
                where = f"registries[{r}]"
                arguments = registry_arguments(entry, where)
                try:
                    registry = store.add_registry(**arguments)
                except ValueError as error:
                    raise SeedError(f"{where}.{error}") from None
                registries.append(registry)
                add_registry_parts(store, registry, entry, where)
                image_entries = _expect(entry.get("images", []), list, f"{where}.images", "a list")
                for i, image_entry in enumerate(image_entries):
                    image_where = f"{where}.images[{i}]"
                    arguments = image_arguments(image_entry, store, image_where)
                    try:
                        images.append(store.add_image(registry.id, **arguments))
                    except ValueError as error:
                        raise SeedError(f"{image_where}.{error}") from None
                    if image_entry.get("manifests") is not None:  # once every image is in: lists may come first
                        image_lists.append((images[-1], image_entry["manifests"], image_where))
                check_declared_repositories(store, registry, entry, where)
            for image, manifests, image_where in image_lists:
                set_manifests(store, image, manifests, image_where)
            for r, (registry, entry) in enumerate(zip(registries, entries)):
                add_artifact_bindings(store, registry, entry, f"registries[{r}]")
            add_scan_entries(store, data, undo)
            for m, record in enumerate(migrations):  # a registry whose migration completed is Cloud Registry's
                moved = store.registries.get(record.registry_id)
                if record.status == COMPLETED and moved is not None and moved.kind is None:
                    raise SeedError(
                        f"migrations[{m}].status: COMPLETED, but registry {record.registry_id} is Container "
                        "Registry's (a migration that completed made it a Cloud Registry registry)"
                    )
            for o, operation in enumerate(operations):
                if operation.id in store.operations:
                    raise SeedError(f"operations[{o}].id: {operation.id!r} already exists")
        except BaseException:  # whatever went wrong, nothing of this seed stays
            for step in reversed(undo):
                step()
            store.delete_images(image.id for image in images)  # lists before what they reference
            for registry in reversed(registries):
                store.delete_registry(registry.id)
            raise
        for operation in operations:
            store.add_operation(operation)
        if modes:  # the modes it names replace those in force; the others stay
            store.configure_operations({**store.operation_modes, **modes})
        if stage is not None:
            store.container_registry_stage = stage
        for folder_id, cloud_id in clouds:
            store.set_folder_cloud(folder_id, cloud_id)
        for record in migrations:
            store.migrations[record.registry_id] = record
    return registries, images


def set_manifests(store: Store, image: Image, manifests: Any, where: str = "") -> None:
    """Make ``image`` an image list referencing the images of its repository with these digests."""
    digests = _strings(manifests, _at(where, "manifests"))
    try:
        store.set_manifests(image.id, digests)
    except ValueError as error:
        raise SeedError(_at(where, str(error))) from None


def add_registry_parts(store: Store, registry: Registry, entry: dict, where: str = "") -> None:
    """A seed registry entry's access bindings, IP permissions and declared repositories."""
    store.set_registry_access(
        registry.id,
        access_bindings=access_bindings_of(entry.get("access_bindings", []), _at(where, "access_bindings")),
        ip_permissions=ip_permissions_of(entry.get("ip_permissions", []), _at(where, "ip_permissions")),
    )
    if entry.get("scan_policy") is not None:
        add_scan_policy_entry(store, registry, entry["scan_policy"], _at(where, "scan_policy"))
    for position, folder in enumerate(_expect(entry.get("folders") or [], list, _at(where, "folders"), "a list")):
        add_folder_entry(store, registry, folder, f"{_at(where, 'folders')}[{position}]")
    key = _at(where, "lifecycle_policies")
    for position, policy in enumerate(_expect(entry.get("lifecycle_policies") or [], list, key, "a list")):
        add_cloud_policy_entry(store, registry, policy, f"{key}[{position}]")
    paths: set[str] = set()
    for position, repository_entry in enumerate(
        _expect(entry.get("repositories", []), list, _at(where, "repositories"), "a list")
    ):
        repository_where = f"{_at(where, 'repositories')}[{position}]"
        repository = add_repository_entry(store, registry.id, repository_entry, repository_where)
        if repository.path in paths:
            raise SeedError(f"{repository_where}.path: {repository.path!r} appears twice in this registry")
        paths.add(repository.path)


def add_folder_entry(store: Store, registry: Registry, entry: Any, where: str = "") -> None:
    """A Cloud Registry folder (and those above it) from its entry: path, created_at, created_by,
    access_bindings."""
    _check_keys(entry, _FOLDER_KEYS, {"path"}, where)
    path = _expect(entry["path"], str, _at(where, "path"), "a string")
    created_by = _expect(entry.get("created_by") or "", str, _at(where, "created_by"), "a string")
    created_at_ns = parse_timestamp(entry["created_at"], _at(where, "created_at")) if entry.get("created_at") else None
    bindings = access_bindings_of(entry.get("access_bindings") or [], _at(where, "access_bindings"))
    try:
        folder = store.upsert_folder(registry.id, path, created_by=created_by, created_at_ns=created_at_ns)
    except InvalidArgument as error:  # its message names the path
        raise SeedError(_at(where, error.message)) from None
    except ApiError as error:
        raise SeedError(f"{_at(where, 'path')}: {error.message}") from None
    if bindings:
        store.set_artifact_access(folder.id, bindings)


def _cloud_rules(entries: Any, where: str) -> list[dict]:
    """Cloud Registry LifecycleRule messages, checked by their annotations, in protobuf's JSON mapping."""
    rules = []
    for position, rule in enumerate(_expect(entries, list, where, "a list")):
        message = _api_message(rule, f"{CLOUD_REGISTRY}.LifecycleRule", f"{where}[{position}]")
        rules.append(json_format.MessageToDict(message, preserving_proto_field_name=True))
    return rules


def add_cloud_policy_entry(store: Store, registry: Registry, entry: Any, where: str = "") -> None:
    """A Cloud Registry registry's lifecycle policy and its dry-run results, from the seed format."""
    _check_keys(entry, _CLOUD_POLICY_KEYS, set(), where)
    arguments: dict[str, Any] = {"rules": _cloud_rules(entry.get("rules") or [], _at(where, "rules"))}
    for key in ("id", "name", "description", "state", "created_by"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, _at(where, key), "a string")
    for key in ("created_at", "modified_at"):
        if entry.get(key) is not None:
            arguments[f"{key}_ns"] = parse_timestamp(entry[key], _at(where, key))
    modified_by = _expect(entry.get("modified_by") or "", str, _at(where, "modified_by"), "a string")
    try:
        policy = store.add_cloud_policy(registry.id, **arguments)
    except ValueError as error:
        raise SeedError(_at(where, str(error))) from None
    except ApiError as error:
        raise SeedError(f"{where}: {error.message}") from None
    policy.modified_by = modified_by or policy.modified_by
    key = _at(where, "dry_run_results")
    for position, run in enumerate(_expect(entry.get("dry_run_results") or [], list, key, "a list")):
        run_where = f"{key}[{position}]"
        _check_keys(run, _CLOUD_DRY_RUN_KEYS, {"id", "run_at"}, run_where)
        affected = []
        for index, item in enumerate(_expect(run.get("affected") or [], list, _at(run_where, "affected"), "a list")):
            item_where = f"{_at(run_where, 'affected')}[{index}]"
            _check_keys(item, _AFFECTED_KEYS, {"path", "artifact_id", "rule_type"}, item_where)
            if item["rule_type"] not in (HARD, SOFT):
                raise SeedError(f"{_at(item_where, 'rule_type')}: must be {HARD} or {SOFT}, got {item['rule_type']!r}")
            affected.append(
                AffectedArtifact(
                    _expect(item["path"], str, _at(item_where, "path"), "a string"),
                    _expect(item["artifact_id"], str, _at(item_where, "artifact_id"), "a string"),
                    item["rule_type"],
                    _expect(item.get("rule_index", 0), int, _at(item_where, "rule_index"), "an integer"),
                )
            )
        snapshot = _cloud_rules(run.get("policy_snapshot") or [], _at(run_where, "policy_snapshot"))
        result = CloudDryRun(
            _expect(run["id"], str, _at(run_where, "id"), "a string"), policy.id,
            parse_timestamp(run["run_at"], _at(run_where, "run_at")), tuple(snapshot), tuple(affected),
        )  # fmt: skip
        try:
            store.add_cloud_dry_run(result)
        except ValueError as error:
            raise SeedError(_at(run_where, str(error))) from None
        except ApiError as error:
            raise SeedError(f"{run_where}: {error.message}") from None


def add_artifact_bindings(store: Store, registry: Registry, entry: dict, where: str = "") -> None:
    """A Cloud Registry registry's artifacts' access bindings ({"path", "access_bindings"}), once
    its images are in."""
    key = _at(where, "artifact_access_bindings")
    for position, item in enumerate(_expect(entry.get("artifact_access_bindings") or [], list, key, "a list")):
        item_where = f"{key}[{position}]"
        _check_keys(item, _ARTIFACT_BINDING_KEYS, {"path", "access_bindings"}, item_where)
        path = _expect(item["path"], str, _at(item_where, "path"), "a string")
        bindings = access_bindings_of(item["access_bindings"], _at(item_where, "access_bindings"))
        try:
            store.set_artifact_access(store.get_artifact_by_path(registry.id, path).id, bindings)
        except ApiError as error:
            raise SeedError(f"{_at(item_where, 'path')}: {error.message}") from None
    key = _at(where, "soft_deleted_artifacts")
    for position, item in enumerate(_expect(entry.get("soft_deleted_artifacts") or [], list, key, "a list")):
        item_where = f"{key}[{position}]"
        _check_keys(item, {"path", "until"}, {"path", "until"}, item_where)
        path = _expect(item["path"], str, _at(item_where, "path"), "a string")
        until = parse_timestamp(item["until"], _at(item_where, "until"))
        try:
            artifact = store.get_artifact_by_path(registry.id, path)
        except ApiError as error:
            raise SeedError(f"{_at(item_where, 'path')}: {error.message}") from None
        if artifact.image is None:
            raise SeedError(
                f"{_at(item_where, 'path')}: {path!r} is a {artifact.kind}: only artifacts are soft-deleted"
            )
        store.soft_deleted[artifact.id] = until


def add_repository_entry(store: Store, registry_id: str, entry: Any, where: str = "") -> Repository:
    """A repository from its seed entry (path, id, kept, access_bindings). An existing repository
    keeps its access bindings unless the entry gives some."""
    arguments = repository_arguments(entry, where)
    given = entry.get("access_bindings")
    bindings = access_bindings_of(given, _at(where, "access_bindings")) if given is not None else None
    try:
        repository = store.add_repository(registry_id, **arguments)
    except ValueError as error:
        raise SeedError(f"{_at(where, str(error))}") from None
    if bindings is not None:
        store.set_repository_access(repository.id, bindings)
    for position, policy in enumerate(
        _expect(entry.get("lifecycle_policies", []), list, _at(where, "lifecycle_policies"), "a list")
    ):
        add_lifecycle_policy_entry(store, repository, policy, f"{_at(where, 'lifecycle_policies')}[{position}]")
    return repository


def lifecycle_rule_of(message) -> LifecycleRule:
    """A LifecycleRule message (a request's or a seed's) as the record the store keeps."""
    period = message.expire_period
    return LifecycleRule(
        description=message.description,
        expire_period_ns=period.seconds * 1_000_000_000 + period.nanos if message.HasField("expire_period") else 0,
        tag_regexp=message.tag_regexp,
        untagged=message.untagged,
        retained_top=message.retained_top,
    )


def lifecycle_rules_of(entries: Any, where: str) -> list[LifecycleRule]:
    """Rules from entries in protobuf's JSON mapping of LifecycleRule ({"tag_regexp": "v.*",
    "expire_period": "172800s", "retained_top": 5}), checked by its annotations."""
    return [
        lifecycle_rule_of(
            _api_message(entry, "yandex.cloud.containerregistry.v1.LifecycleRule", f"{where}[{position}]")
        )
        for position, entry in enumerate(_expect(entries, list, where, "a list"))
    ]


def add_lifecycle_policy_entry(store: Store, repository: Repository, entry: Any, where: str = "") -> LifecyclePolicy:
    """A lifecycle policy of ``repository`` from its seed entry (id, name, description, status,
    created_at, rules, dry_run_results)."""
    _check_keys(entry, _POLICY_KEYS, set(), where)
    arguments: dict[str, Any] = {}
    for key in ("id", "name", "description", "status"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, _at(where, key), "a string")
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], _at(where, "created_at"))
    arguments["rules"] = lifecycle_rules_of(entry.get("rules", []), _at(where, "rules"))
    try:
        policy = store.add_lifecycle_policy(repository.id, **arguments)
    except ValueError as error:
        raise SeedError(_at(where, str(error))) from None
    except ApiError as error:  # a second ACTIVE policy of the repository
        raise SeedError(f"{_at(where, 'status')}: {error.message}") from None
    for position, result in enumerate(
        _expect(entry.get("dry_run_results", []), list, _at(where, "dry_run_results"), "a list")
    ):
        add_dry_run_entry(store, repository, policy, result, f"{_at(where, 'dry_run_results')}[{position}]")
    return policy


def add_dry_run_entry(store: Store, repository: Repository, policy: LifecyclePolicy, entry: Any, where: str) -> None:
    """A dry run's result from its seed entry: id, run_at, and the images it found as they were
    (image entries of the policy's repository, with id, digest and created_at: they need not exist now)."""
    _check_keys(entry, _DRY_RUN_KEYS, {"id", "run_at"}, where)
    images: dict[str, Image] = {}
    for position, image_entry in enumerate(
        _expect(entry.get("affected_images", []), list, _at(where, "affected_images"), "a list")
    ):
        image_where = f"{_at(where, 'affected_images')}[{position}]"
        arguments = image_arguments(image_entry, store, image_where)
        for key in ("id", "digest", "created_at_ns"):
            if key not in arguments:
                raise SeedError(
                    f"{_at(image_where, key.removesuffix('_ns'))}: is required (the image as the dry run found it)"
                )
        if arguments["repository"] != repository.path:
            raise SeedError(f"{_at(image_where, 'repository')}: must be the policy's repository, {repository.path!r}")
        if arguments["id"] in images:
            raise SeedError(f"{_at(image_where, 'id')}: {arguments['id']!r} appears twice")
        arguments.pop("repository")
        try:
            check_digest(arguments["digest"], "digest")
            for tag in arguments["tags"]:
                if not TAG_PATTERN.fullmatch(tag):
                    raise ValueError(f"tags: {tag!r} is not a valid Docker tag")
        except ValueError as error:
            raise SeedError(_at(image_where, str(error))) from None
        images[arguments["id"]] = Image(
            registry_id=repository.registry_id,
            repository=repository.path,
            name=repository.name,
            compressed_size=arguments.pop("compressed_size", None),
            config=arguments.pop("config", None),
            layers=arguments.pop("layers", None),
            **arguments,
        )
    result = DryRunResult(
        _expect(entry["id"], str, _at(where, "id"), "a string"),
        policy.id,
        parse_timestamp(entry["run_at"], _at(where, "run_at")),
        images,
    )
    try:
        store.add_dry_run_result(result)
    except ValueError as error:
        raise SeedError(_at(where, str(error))) from None


def vulnerabilities_of(entries: Any, where: str) -> list[Vulnerability]:
    """Vulnerabilities from entries in protobuf's JSON mapping of Vulnerability
    ({"severity": "HIGH", "package": {"name": "CVE-2024-1", "package": "openssl", "version": "3.0.1"}})."""
    found = []
    for position, entry in enumerate(_expect(entries, list, where, "a list")):
        message = _api_message(entry, "yandex.cloud.containerregistry.v1.Vulnerability", f"{where}[{position}]")
        severity = type(message).Severity.Name(message.severity)
        if severity == "SEVERITY_UNSPECIFIED":
            raise SeedError(f"{where}[{position}].severity: is required")
        package = message.package
        found.append(
            Vulnerability(
                severity,
                package.name,
                package.link,
                package.package,
                package.source,
                package.version,
                package.fixed_by,
                package.origin,
                package.type,
            )  # fmt: skip
        )
    return found


def add_scan_entries(store: Store, data: dict, undo: list[Callable[[], object]]) -> None:
    """A seed's vulnerability reports (by digest) and scan results; ``undo`` gets what puts each back."""
    for position, entry in enumerate(
        _expect(data.get("vulnerability_reports", []), list, "vulnerability_reports", "a list")
    ):
        where = f"vulnerability_reports[{position}]"
        _check_keys(entry, _REPORT_KEYS, {"digest"}, where)
        vulnerabilities = vulnerabilities_of(entry.get("vulnerabilities", []), _at(where, "vulnerabilities"))
        digest = _expect(entry["digest"], str, _at(where, "digest"), "a string")
        before = store.vulnerability_reports.get(digest)
        try:
            store.set_vulnerability_report(digest, vulnerabilities)
        except ValueError as error:
            raise SeedError(_at(where, str(error))) from None
        undo.append(partial(store.restore_vulnerability_report, digest, before))
    for position, entry in enumerate(_expect(data.get("scan_results", []), list, "scan_results", "a list")):
        where = f"scan_results[{position}]"
        _check_keys(
            entry, _SCAN_RESULT_KEYS, {"id", "image_id", "repository_id", "folder_id", "status", "scanned_at"}, where
        )
        text = {
            key: _expect(entry[key], str, _at(where, key), "a string")
            for key in ("id", "image_id", "repository_id", "folder_id", "status")
        }
        result = ScanResult(
            text["id"], text["image_id"], text["repository_id"], text["folder_id"], text["status"],
            parse_timestamp(entry["scanned_at"], _at(where, "scanned_at")),
            tuple(vulnerabilities_of(entry.get("vulnerabilities", []), _at(where, "vulnerabilities"))),
            _expect(entry.get("artifact_id") or "", str, _at(where, "artifact_id"), "a string"),
        )  # fmt: skip
        try:
            store.add_scan_result(result)
        except ValueError as error:
            raise SeedError(_at(where, str(error))) from None
        undo.append(partial(store.forget_scan_result, result.id))


def add_scan_policy_entry(store: Store, registry: Registry, entry: Any, where: str) -> ScanPolicy:
    """A registry's scan policy from its seed entry (rules in protobuf's JSON mapping of ScanRules)."""
    _check_keys(entry, _SCAN_POLICY_KEYS, set(), where)
    package = CLOUD_REGISTRY if registry.kind is not None else "yandex.cloud.containerregistry.v1"
    rules = _api_message(entry.get("rules", {}), f"{package}.ScanRules", _at(where, "rules"))
    arguments: dict[str, Any] = {"rules": json_format.MessageToDict(rules, preserving_proto_field_name=True)}
    for key in ("id", "name", "description"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, _at(where, key), "a string")
    for key in ("disabled", "scan_lang_packages"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], bool, _at(where, key), "true or false")
    if arguments.get("scan_lang_packages") and registry.kind is None:
        raise SeedError(f"{_at(where, 'scan_lang_packages')}: only a Cloud Registry registry's policy has it")
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], _at(where, "created_at"))
    try:
        return store.add_scan_policy(registry.id, **arguments)
    except ValueError as error:
        raise SeedError(_at(where, str(error))) from None
    except ApiError as error:  # a registry whose scanning cannot be configured
        raise SeedError(f"{where}: {error.message}") from None


def check_declared_repositories(store: Store, registry: Registry, entry: dict, where: str = "") -> None:
    """A repository declared with "kept": false exists only while it holds images."""
    for position, repository_entry in enumerate(entry.get("repositories", [])):
        if repository_entry.get("kept") is False:
            repository = store.get_repository_by_name(f"{registry.id}/{repository_entry['path']}")
            if not repository.digests:
                raise SeedError(
                    f"{_at(where, 'repositories')}[{position}].kept: false, but no image of the seed is in it "
                    "(a repository that is not kept exists only while it holds images)"
                )


def _scans_json(store: Store) -> dict:
    """The vulnerability reports and scan results, when there are any."""
    found = {}
    if store.vulnerability_reports:
        found["vulnerability_reports"] = [
            {"digest": digest, "vulnerabilities": [vulnerability_json(v) for v in vulnerabilities]}
            for digest, vulnerabilities in store.vulnerability_reports.items()
        ]
    if store.scan_results:
        found["scan_results"] = [scan_result_record_json(result) for result in store.scan_results.values()]
    return found


def tree_json(store: Store, registry: Registry) -> dict:
    """A Cloud Registry registry's folders and its artifacts' access bindings, in the seed format."""
    if registry.kind is None:
        return {}
    found: dict[str, list] = {}
    folders = sorted((store.folders[i] for i in store._registry_folders.get(registry.id, ())), key=lambda f: f.path)
    if folders:
        found["folders"] = [folder_json(folder) for folder in folders]
    bound = [
        {"path": artifact.full_path, "access_bindings": [access_binding_json(b) for b in bindings]}
        for artifact_id, bindings in store._artifact_bindings.items()
        if (artifact := store.get_artifact(artifact_id)).registry_id == registry.id
    ]  # O(bound artifacts) per registry: few are
    if bound:
        found["artifact_access_bindings"] = sorted(bound, key=lambda item: item["path"])
    marked = []
    for artifact_id, until in store.soft_deleted.items():
        artifact = store.get_artifact(artifact_id)
        if artifact.registry_id == registry.id:
            marked.append({"path": artifact.full_path, "until": format_timestamp(until)})
    if marked:
        found["soft_deleted_artifacts"] = sorted(marked, key=lambda item: item["path"])
    policies = store.cloud_policies_of(registry.id)
    if policies:
        found["lifecycle_policies"] = [
            cloud_policy_json(policy, [run for run in store.cloud_dry_runs.values() if run.policy_id == policy.id])
            for policy in policies
        ]
    return found


def _clouds(value: Any) -> list[tuple[str, str]]:
    """A seed's ``clouds``: {cloud id: [folder id, ...]}, each folder in one cloud."""
    pairs: dict[str, str] = {}
    for cloud_id, folders in _expect(value, dict, "clouds", "an object of cloud id -> [folder id, ...]").items():
        _checked(check_id, cloud_id, f"clouds.{cloud_id}")
        for f, folder_id in enumerate(_expect(folders, list, f"clouds.{cloud_id}", "a list of folder ids")):
            _checked(check_id, folder_id, f"clouds.{cloud_id}[{f}]")
            if folder_id in pairs:
                raise SeedError(f"clouds.{cloud_id}[{f}]: folder {folder_id} is in cloud {pairs[folder_id]} already")
            pairs[folder_id] = cloud_id
    return list(pairs.items())


def registry_entry(store: Store, registry: Registry) -> dict:
    """One Container Registry registry, its repositories (with their lifecycle policies), images and scan
    policy, in the seed format (complete): what a migration converts, and puts back if it cannot."""
    with store.atomic():
        repositories, images = [], []
        for repository in store._repositories_of(registry.id):
            entry = repository_json(repository)
            policies = [
                lifecycle_policy_json(
                    policy, [r for r in store.dry_run_results.values() if r.lifecycle_policy_id == policy.id]
                )
                for policy in store.lifecycle_policies.values()
                if policy.repository_id == repository.id
            ]
            if policies:
                entry["lifecycle_policies"] = policies
            repositories.append(entry)
            images += [store.images[image_id] for image_id in repository.digests.values()]
        found = {**registry_json(registry), "repositories": repositories, "images": []}
        for image in sorted(images, key=lambda image: image.created_at_ns):
            found["images"].append(image_json(image) | ({"manifests": m} if (m := store.manifests_of(image)) else {}))
        policy = next((p for p in store.scan_policies.values() if p.registry_id == registry.id), None)
        if policy is not None:
            found["scan_policy"] = scan_policy_json(policy)
        return found


def _clouds_json(store: Store) -> dict[str, list[str]]:
    clouds: dict[str, list[str]] = {}
    for folder_id, cloud_id in sorted(store.folder_clouds.items()):
        clouds.setdefault(cloud_id, []).append(folder_id)
    return clouds


def export_state(store: Store, *, complete: bool = True) -> dict:
    """The whole state in the seed format: loading it gives the same registries, images,
    operations. ``complete=False`` (the state file) writes only what cannot be derived."""
    with store.atomic(), collector_paused():
        by_registry: dict[str, list[dict]] = {registry_id: [] for registry_id in store.registries}
        for image in sorted(store.images.values(), key=lambda image: image.created_at_ns):
            entry = image_json(image, complete)
            manifests = store.manifests_of(image)
            if manifests:
                entry["manifests"] = manifests
            by_registry[image.registry_id].append(entry)
        repositories: dict[str, list[dict]] = {registry_id: [] for registry_id in store.registries}
        policies: dict[str, list[dict]] = {}
        for policy in store.lifecycle_policies.values():
            results = [r for r in store.dry_run_results.values() if r.lifecycle_policy_id == policy.id]
            policies.setdefault(policy.repository_id, []).append(lifecycle_policy_json(policy, results, complete))
        for repository in store.repositories.values():
            entry = repository_json(repository)
            if repository.id in policies:
                entry["lifecycle_policies"] = policies[repository.id]
            repositories[repository.registry_id].append(entry)
        scan_policies = {policy.registry_id: scan_policy_json(policy) for policy in store.scan_policies.values()}
        return (
            {
                "registries": [
                    {
                        **registry_json(registry),
                        **({"scan_policy": scan_policies[registry.id]} if registry.id in scan_policies else {}),
                        **tree_json(store, registry),
                        "repositories": repositories[registry.id],
                        "images": by_registry[registry.id],
                    }
                    for registry in store.registries.values()
                ],
                "operations": [operation_json(operation) for operation in store.operations.values()],
            }
            | _scans_json(store)
            | ({"operation_modes": modes_json(store.operation_modes)} if store.operation_modes else {})
            | ({"clouds": _clouds_json(store)} if store.folder_clouds else {})
            | (
                {"migrations": [migration_json(record) for record in store.migrations.values()]}
                if store.migrations
                else {}
            )
            | (
                {"container_registry_stage": store.container_registry_stage.spec}
                if store.container_registry_stage.name != ACTIVE
                else {}
            )
        )
