"""The emulator's records: registries, repositories, images (with their blobs), operations.

Plain Python, no gRPC or protobuf. An image keeps what was given when it was added and derives
the rest (generated blobs) from its id, and keeps given blobs packed into bytes: the records
are what most of the memory goes to, so they are kept small.
"""

from __future__ import annotations

import copy
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from emulator.api.ids import id_of_bits
from emulator.api.values import INT64_MAX, check_digest, check_size


def _moment(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1_000_000_000, timezone.utc)


@dataclass(slots=True)
class Blob:
    id: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessBinding:
    """A role granted to a subject on a registry or repository (stored, not enforced)."""

    role_id: str
    subject_id: str
    subject_type: str


@dataclass(frozen=True, slots=True)
class IpPermission:
    action: str  # "PULL" or "PUSH"
    ip: str


REGISTRY_STATUSES = ("CREATING", "ACTIVE", "DELETING")
# The two APIs a registry may be served by (a Registry's ``apis``).
CONTAINER_REGISTRY_API = "container-registry"
CLOUD_REGISTRY_API = "cloud-registry"
# A folder as each API lists it: the List scope kind of its registries, repositories and images.
FOLDER_SCOPES = {CONTAINER_REGISTRY_API: "folder", CLOUD_REGISTRY_API: "cloud_folder"}
# Cloud Registry's registry kinds and types (yandex.cloud.cloudregistry.v1.Registry.Kind, .Type).
REGISTRY_KINDS = ("MAVEN", "NPM", "DOCKER", "DEBIAN", "NUGET", "PYPI", "BINARY", "GO")
REGISTRY_TYPES = ("LOCAL", "REMOTE", "VIRTUAL", "TRANSITIONAL")


@dataclass(slots=True)
class Registry:
    """A registry of Container Registry (``kind`` None) or of Cloud Registry (``kind`` one of
    REGISTRY_KINDS, with its type, description, properties and pattern filter)."""

    id: str
    folder_id: str
    name: str
    created_at_ns: int
    labels: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    access_bindings: tuple[AccessBinding, ...] = ()
    ip_permissions: tuple[IpPermission, ...] = ()
    kind: str | None = None
    type: str = "LOCAL"
    description: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    include_patterns: tuple[str, ...] = ()  # its PatternFilter
    exclude_patterns: tuple[str, ...] = ()
    modified_at_ns: int | None = None  # None: never modified since created

    @property
    def created_at(self) -> datetime:
        return _moment(self.created_at_ns)

    @property
    def modified_at(self) -> datetime:
        return _moment(self.modified_at_ns if self.modified_at_ns is not None else self.created_at_ns)

    @property
    def api(self) -> str:
        """The API that serves it: Container Registry's services see only its registries (and their
        repositories and images), Cloud Registry's only its own."""
        return CONTAINER_REGISTRY_API if self.kind is None else CLOUD_REGISTRY_API


@dataclass(slots=True)
class Repository:
    """A repository: exists while it holds images or since it was upserted (``kept``),
    until deleted. Also what makes tags and digests unique within it."""

    id: str
    registry_id: str
    name: str  # "<registry_id>/<path>", what Repository.name and Image.name carry
    path: str  # the name without "<registry_id>/"; its images share these two strings
    kept: bool = False  # upserted (or declared in a seed): stays when its last image goes
    access_bindings: tuple[AccessBinding, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)  # tag -> image id
    digests: dict[str, str] = field(default_factory=dict)  # digest -> image id


class Image:
    """A stored image. Fields not given when it was added (config, layers and so
    compressed_size) are derived from its id on first use instead of being stored: the
    same realistic values every time, at no memory cost for the many images tests make.
    Given blobs are kept packed into bytes (see pack_blobs): a few hundred bytes instead
    of a dozen Python objects per image."""

    __slots__ = (
        "id", "registry_id", "repository", "name", "digest", "tags", "created_at_ns", "last_modified_ns",
        "_compressed_size", "_config", "_layers", "wire",
    )  # fmt: skip

    def __init__(
        self,
        id: str,
        registry_id: str,
        repository: str,
        name: str,
        digest: str,
        compressed_size: int | None,
        config: Blob | None,
        layers: tuple[Blob, ...] | None,
        tags: list[str],
        created_at_ns: int,
        last_modified_ns: int | None = None,
    ):
        self.id = id
        self.registry_id = registry_id
        self.repository = repository  # the path inside the registry, e.g. "team/web"
        self.name = name  # "<registry_id>/<repository>", what Image.name carries
        self.digest = digest
        self.tags = tags
        self.created_at_ns = created_at_ns
        # What order_by=last_modified sorts by: the later of its creation and the last tag move
        # onto or off it (the store keeps it). Usually the created_at object itself: no memory.
        self.last_modified_ns = created_at_ns if last_modified_ns is None else last_modified_ns
        self._compressed_size = compressed_size
        self._config = pack_blobs((config,)) if config is not None else None
        self._layers = pack_blobs(layers) if layers is not None else None
        if compressed_size is None and (config is not None or layers is not None):
            given = (config.size if config is not None else 0) + sum_of_sizes(layers or ())
            if given > INT64_MAX - DERIVED_SIZES_BOUND and self.compressed_size > INT64_MAX:
                raise ValueError(
                    "layers: sizes sum beyond 2^63-1 with the config's, so compressed_size (their sum unless "
                    "given) would not fit int64: give compressed_size"
                )
        # The service layer's cache: (the tags list it was made with, the encoded bytes).
        # Tags are the only field that changes, and the store replaces the list whenever
        # they do (never edits it in place), so a cache made with other tags is never used.
        self.wire: tuple[list[str], bytes] | None = None

    @property
    def config(self) -> Blob:
        if self._config is not None:
            return unpack_blobs(self._config)[0]
        return derived_blob(self.id, "config", 1_000, 20_000)

    @property
    def layers(self) -> tuple[Blob, ...]:
        if self._layers is not None:
            return unpack_blobs(self._layers)
        return tuple(derived_blob(self.id, f"layer{n}", 1_000, 30_000_000) for n in range(3))

    @property
    def compressed_size(self) -> int:
        """As given, else what production reports: the layers' sizes plus the config blob's
        (a real image: 9 layers of 90,595,047 B and a 7,926 B config make 90,602,973)."""
        if self._compressed_size is not None:
            return self._compressed_size
        return self.blobs()[2]

    def blobs(self) -> tuple[Blob, tuple[Blob, ...], int]:
        """(config, layers, compressed_size), each derived once: what encoding an image needs."""
        config, layers = self.config, self.layers
        if self._compressed_size is not None:
            return config, layers, self._compressed_size
        return config, layers, sum(layer.size for layer in layers) + config.size

    @property
    def created_at(self) -> datetime:
        return _moment(self.created_at_ns)

    def given(self) -> dict[str, Any]:
        """The fields that were given when the image was added and are stored, not derived:
        ``compressed_size``, ``config``, ``layers`` (each only if given). A state file needs
        only these; the others are derived from the id again on load."""
        fields: dict[str, Any] = {}
        if self._compressed_size is not None:
            fields["compressed_size"] = self._compressed_size
        if self._config is not None:
            fields["config"] = unpack_blobs(self._config)[0]
        if self._layers is not None:
            fields["layers"] = unpack_blobs(self._layers)
        return fields

    def __repr__(self) -> str:
        return (
            f"Image(id={self.id!r}, name={self.name!r}, digest={self.digest!r}, tags={self.tags!r}, "
            f"created_at={self.created_at.isoformat().replace('+00:00', 'Z')})"
        )

    def __eq__(self, other: object) -> bool:
        fields = (
            "id", "name", "digest", "tags", "created_at_ns", "last_modified_ns", "compressed_size", "config", "layers",
        )  # fmt: skip
        return isinstance(other, Image) and all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = None  # mutable (tags move)


_BLOB_HEAD = struct.Struct(">H")  # id length
_BLOB_TAIL = struct.Struct(">32sQH")  # raw sha256, size, number of urls
_URL_HEAD = struct.Struct(">I")


def pack_blobs(blobs: Iterable[Blob]) -> bytes:
    """Blobs as one bytes object; ValueError for a blob the wire could not carry."""
    packed = bytearray()
    for blob in blobs:
        if not isinstance(blob, Blob):
            raise ValueError(f"layers: expected Blob records, got {blob!r}")
        check_digest(blob.digest, "digest")
        check_size(blob.size, "size")
        blob_id = str(blob.id).encode()
        packed += _BLOB_HEAD.pack(len(blob_id)) + blob_id
        packed += _BLOB_TAIL.pack(bytes.fromhex(blob.digest[7:]), blob.size, len(blob.urls))
        for url in blob.urls:
            encoded = str(url).encode()
            packed += _URL_HEAD.pack(len(encoded)) + encoded
    return bytes(packed)


def unpack_blobs(packed: bytes) -> tuple[Blob, ...]:
    blobs = []
    position = 0
    while position < len(packed):
        (length,) = _BLOB_HEAD.unpack_from(packed, position)
        position += _BLOB_HEAD.size
        blob_id = packed[position : position + length].decode()
        position += length
        digest, size, url_count = _BLOB_TAIL.unpack_from(packed, position)
        position += _BLOB_TAIL.size
        urls = []
        for _ in range(url_count):
            (length,) = _URL_HEAD.unpack_from(packed, position)
            position += _URL_HEAD.size
            urls.append(packed[position : position + length].decode())
            position += length
        blobs.append(Blob(id=blob_id, digest="sha256:" + digest.hex(), size=size, urls=tuple(urls)))
    return tuple(blobs)


def sum_of_sizes(blobs: Iterable[object]) -> int:
    """The sizes of the well-formed blobs among ``blobs`` (the others are refused when packed)."""
    return sum(blob.size for blob in blobs if isinstance(blob, Blob) and type(blob.size) is int)


DERIVED_SIZES_BOUND = 20_000 + 3 * 30_000_000  # at most what a derived config and layers add up to


def derived_blob(image_id: str, role: str, low: int, high: int) -> Blob:
    """A blob's realistic id, digest and size, derived from an image id and its role."""
    seed = hashlib.sha256(f"{image_id}/{role}".encode()).digest()
    return Blob(
        id=id_of_bits(int.from_bytes(seed[:11], "big") >> 3),  # base32hex of its first 85 bits
        digest="sha256:" + hashlib.sha256(seed).hexdigest(),
        size=low + int.from_bytes(seed[11:15], "big") % (high - low),
    )


class Action(Enum):
    """What a pending operation does when it is done (its seed and state-file name is the value)."""

    NONE = ""  # nothing: the change was made when the call came
    DELETE_IMAGE = "delete_image"
    DELETE_REGISTRY = "delete_registry"
    FORCE_DELETE_REGISTRY = "force_delete_registry"
    CREATE_REGISTRY = "create_registry"  # the registry exists (CREATING) until done: then ACTIVE
    DELETE_REPOSITORY = "delete_repository"
    SCAN_IMAGE = "scan_image"  # the scan result is RUNNING until done: then READY (ERROR if it fails)
    DELETE_ARTIFACT = "delete_artifact"  # a Cloud Registry node and everything under it
    MIGRATE = "migrate"  # Container Registry registries to Cloud Registry (its target: the migration's key)

    @property
    def deletes(self) -> bool:
        """Whether it deletes its target."""
        return self in (
            Action.DELETE_IMAGE,
            Action.DELETE_REGISTRY,
            Action.FORCE_DELETE_REGISTRY,
            Action.DELETE_REPOSITORY,
            Action.DELETE_ARTIFACT,
        )

    @property
    def kind(self) -> str:
        """The kind of resource its target is (ids are unique per kind only: a seed may reuse one)."""
        if self is Action.DELETE_IMAGE:
            return "Image"
        if self is Action.SCAN_IMAGE:
            return "ScanResult"
        if self is Action.DELETE_ARTIFACT:
            return "Artifact"
        if self is Action.MIGRATE:
            return "Migration"
        return "Repository" if self is Action.DELETE_REPOSITORY else "Registry"


@dataclass(slots=True)
class Pending:
    """What an operation that is not done yet will do, and when it will be done.

    ``action`` on ``target`` (an id); ``polls_left``: OperationService.Get calls until done
    (polls mode), of ``polls_total`` when it was made (None if loaded so); ``due_ns``: when it is
    done (delay mode)."""

    action: Action
    target: str
    polls_left: int | None = None
    due_ns: int | None = None
    polls_total: int | None = None


@dataclass(slots=True)
class Operation:
    id: str
    description: str
    created_at_ns: int
    created_by: str
    modified_at_ns: int
    done: bool
    metadata_type: str  # a message name the service layer knows how to encode
    metadata: dict[str, str]
    response_type: str | None = None
    # The response message in protobuf's JSON mapping (None: an empty message of response_type)
    response: dict[str, Any] | None = None
    error: tuple[str, str] | None = None  # (status code name, message)
    folder_id: str = ""  # the folder of the resource it acts on: who may read it
    # "<caller subject>/<method>/<key>" when the call carried an idempotency-key: a repeat
    # of the call answers this operation again (kept, and dropped, with the operation).
    idempotency_key: str | None = None
    # A digest of the request that made it, so a repeat of its idempotency key with another
    # request is told apart (None for operations recorded before it was kept).
    request_digest: str | None = None
    # Not done yet: what completing it does (None once done, or for operations done at once).
    pending: Pending | None = None

    @property
    def created_at(self) -> datetime:
        return _moment(self.created_at_ns)


def detached(record):
    """A copy of a record to hand to users: changing it (``image.tags.append``, a registry's
    labels) never changes what the emulator serves."""
    if isinstance(record, Image):
        copied = Image.__new__(Image)
        for name in _IMAGE_SLOTS:
            setattr(copied, name, getattr(record, name))
        copied.tags, copied.wire = list(record.tags), None
        return copied
    if isinstance(record, Registry):
        return replace(record, labels=dict(record.labels))
    if isinstance(record, Repository):
        return replace(record, tags=dict(record.tags), digests=dict(record.digests))
    return copy.deepcopy(record)


_IMAGE_SLOTS = Image.__slots__


class Copies(Sequence):
    """Records handed to users as a sequence of copies, each made when it is read (``detached``):
    returning a million loaded images costs nothing until they are looked at."""

    def __init__(self, records: list):
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Copies(self._records[index])
        return detached(self._records[index])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and not isinstance(other, str) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Copies({list(self)!r})"
