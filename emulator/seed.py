"""Seed data: the JSON format of ``--seed`` and ``Emulator.load_seed``.

A seed either loads whole or not at all: any bad entry raises SeedError naming it
(``registries[0].images[2].digest: ...``) and everything already added is taken out.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emulator.ids import DIGEST_PATTERN
from emulator.store import Blob, Image, Registry, Store

_REGISTRY_KEYS = {"id", "folder_id", "name", "created_at", "labels", "images"}
_IMAGE_KEYS = {"repository", "id", "digest", "tags", "created_at", "compressed_size", "config", "layers"}
_BLOB_KEYS = {"id", "digest", "size", "urls"}


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the bad entry."""


def read_seed_file(path: str | Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SeedError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SeedError(f"{path}: not valid JSON: {error}") from None


def parse_timestamp(value: Any, where: str) -> int:
    """RFC 3339 text (or a datetime) -> nanoseconds since the epoch; naive means UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise SeedError(f"{where}: must be an RFC 3339 timestamp, got {value!r}") from None
    if not isinstance(value, datetime):
        raise SeedError(f"{where}: must be an RFC 3339 timestamp, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    seconds = int(value.timestamp())
    return seconds * 1_000_000_000 + value.microsecond * 1_000


def _expect(value: Any, kind: type | tuple, where: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SeedError(f"{where}: must be {what}, got {value!r}")
    return value


def _check_keys(entry: Any, allowed: set[str], required: set[str], where: str) -> dict:
    _expect(entry, dict, where, "an object")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise SeedError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    for key in sorted(required - set(entry)):
        raise SeedError(f"{where}.{key}: is required")
    return entry


def parse_blob(entry: Any, store: Store, where: str, *, default_size: tuple[int, int]) -> Blob:
    _check_keys(entry, _BLOB_KEYS, set(), where)
    size = entry.get("size")
    if size is None:
        size = store.ids.new_size(*default_size)
    elif not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise SeedError(f"{where}.size: must be a non-negative integer, got {size!r}")
    urls = _expect(entry.get("urls", []), list, f"{where}.urls", "a list of strings")
    for position, url in enumerate(urls):
        _expect(url, str, f"{where}.urls[{position}]", "a string")
    digest = entry.get("digest") or store.ids.new_digest()
    if not isinstance(digest, str) or not DIGEST_PATTERN.fullmatch(digest):
        raise SeedError(f"{where}.digest: must be sha256:<64 lowercase hex digits>, got {digest!r}")
    blob_id = _expect(entry.get("id") or store.ids.new_id(), str, f"{where}.id", "a string")
    return Blob(id=blob_id, digest=digest, size=size, urls=tuple(urls))


def image_arguments(entry: Any, store: Store, where: str) -> dict:
    """Keyword arguments for Store.add_image from one seed image entry."""
    _check_keys(entry, _IMAGE_KEYS, {"repository"}, where)
    arguments: dict[str, Any] = {"repository": _expect(entry["repository"], str, f"{where}.repository", "a string")}
    for key in ("id", "digest"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, f"{where}.{key}", "a string")
    tags = _expect(entry.get("tags", []), list, f"{where}.tags", "a list of strings")
    for position, tag in enumerate(tags):
        _expect(tag, str, f"{where}.tags[{position}]", "a string")
    arguments["tags"] = tags
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], f"{where}.created_at")
    if entry.get("compressed_size") is not None:
        size = entry["compressed_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise SeedError(f"{where}.compressed_size: must be a non-negative integer, got {size!r}")
        arguments["compressed_size"] = size
    if entry.get("config") is not None:
        arguments["config"] = parse_blob(entry["config"], store, f"{where}.config", default_size=(1_000, 20_000))
    if entry.get("layers") is not None:
        layers = _expect(entry["layers"], list, f"{where}.layers", "a list of blobs")
        arguments["layers"] = [
            parse_blob(layer, store, f"{where}.layers[{position}]", default_size=(1_000, 30_000_000))
            for position, layer in enumerate(layers)
        ]
    return arguments


def registry_arguments(entry: Any, where: str) -> dict:
    """Keyword arguments for Store.add_registry from one seed registry entry."""
    _check_keys(entry, _REGISTRY_KEYS, {"folder_id"}, where)
    arguments: dict[str, Any] = {"folder_id": entry["folder_id"]}
    for key in ("id", "name"):
        if entry.get(key) is not None:
            arguments[key] = _expect(entry[key], str, f"{where}.{key}", "a string")
    if entry.get("created_at") is not None:
        arguments["created_at_ns"] = parse_timestamp(entry["created_at"], f"{where}.created_at")
    labels = _expect(entry.get("labels", {}), dict, f"{where}.labels", "an object of strings")
    for key, value in labels.items():
        _expect(value, str, f"{where}.labels.{key}", "a string")
    arguments["labels"] = labels
    return arguments


def apply_seed(store: Store, data: Any) -> tuple[list[Registry], list[Image]]:
    """Add every registry and image of a seed to ``store``, all or nothing."""
    _check_keys(data, {"registries"}, {"registries"}, "seed")
    entries = _expect(data["registries"], list, "registries", "a list")
    registries: list[Registry] = []
    images: list[Image] = []
    with store.atomic():
        try:
            for r, entry in enumerate(entries):
                where = f"registries[{r}]"
                arguments = registry_arguments(entry, where)
                try:
                    registry = store.add_registry(**arguments)
                except ValueError as error:
                    raise SeedError(f"{where}.{error}") from None
                registries.append(registry)
                image_entries = _expect(entry.get("images", []), list, f"{where}.images", "a list")
                for i, image_entry in enumerate(image_entries):
                    image_where = f"{where}.images[{i}]"
                    arguments = image_arguments(image_entry, store, image_where)
                    try:
                        images.append(store.add_image(registry.id, **arguments))
                    except ValueError as error:
                        raise SeedError(f"{image_where}.{error}") from None
        except SeedError:
            for image in reversed(images):
                store.delete_image(image.id)
            for registry in reversed(registries):
                store.delete_registry(registry.id)
            raise
    return registries, images
