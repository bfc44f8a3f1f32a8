"""``ycr-emulator snapshot``: read registries, repositories and images from any Container Registry
and Cloud Registry endpoint (production or an emulator) through the public API, List and Get only,
and write them as a seed file that ``ycr-emulator --seed`` and ``Emulator.load_seed`` load; an
emulator seeded from it answers List and Get with the same ids, digests, tags, sizes, blobs and
timestamps. Cloud Registry's registries are read by emulator.contract.cloud_snapshot; after
Container Registry's shutdown (UNIMPLEMENTED) they are read alone.

Every field the API shows is kept exactly (timestamps to the nanosecond, ``compressed_size`` as
served even when it is not the blobs' sum). What Container Registry's API does not show:

- an image's last_modified (``order_by=last_modified`` sorts by it; ``Image`` has no such field).
  The snapshot reads the images in that order, and again with ties reversed (``last_modified, id
  desc``), and gives each image the smallest value, not before its ``created_at``, that keeps that
  order and those ties: every order the emulator then serves is the endpoint's. If the endpoint
  refuses the second order, ties are guessed (a note says so); if it refuses ``last_modified``
  itself, last_modified is left as created_at.
- which images are image lists (``Image`` has no manifests field): Deletes that production refuses
  for a referenced image are accepted by the seeded emulator.
- pending operations: a registry read while CREATING or DELETING keeps that status, with no
  operation to finish it.

Access bindings (registries and repositories) and IP permissions are read too, one call per
resource: they need their own permissions, so a PERMISSION_DENIED (or UNIMPLEMENTED) leaves that kind
out of the snapshot with a note on stderr instead of failing it.

A repository that holds images is written ``"kept": false`` (as one a push made: it goes with its
last image), an empty one ``"kept": true`` (it exists, so something keeps it). The seed is loaded
into an empty store before it is written: one this emulator cannot load (a value production serves
and the emulator refuses) is still written, and the exit code is 1 with the entry named. The reads
are not one transaction: what changes while they run may be seen half-way.

A folder with no registry the token can see is a snapshot too (``{"registries": []}``, exit 0: an
empty folder is legitimate), with a warning on stderr, since a mistyped folder id looks the same.
``--output`` writes through a symlink to its target (atomically, so the link stays a link), takes
``-`` and ``/dev/stdout`` for standard output, and refuses anything but a regular file or a new one
(a device, a directory, a fifo): the atomic rename would replace it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from emulator.contract.client import (
    ClientError,
    RegistryClient,
    add_client_arguments,
    check_endpoint,
    check_text,
    client_options,
    error_text,
)
from emulator.contract.cloud_snapshot import CloudRegistryReader, take_cloud_snapshot
from emulator.contract.reader import Reader, Say, SnapshotError, add_found, enum_name, ns
from emulator.rpc.services import CATALOGUE
from emulator.state.codecs import SeedError, format_timestamp
from emulator.state.records import REGISTRY_STATUSES
from emulator.state.seed import apply_seed
from emulator.state.state_file import check_writable, write_text_atomically
from emulator.state.store import Store

PROG = "ycr-emulator snapshot"
LAST_MODIFIED = "last_modified"
TIES_REVERSED = "last_modified, id desc"  # the same order, ties by id descending instead of ascending
STANDARD_OUTPUT = ("-", "/dev/stdout")  # --output values meaning standard output (never renamed over)
# What --output may not be: the atomic rename would replace it (as root, /dev/null itself) with a file.
FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a fifo",
    stat.S_IFSOCK: "a socket",
}


class UsageError(Exception):
    """Bad flags: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block and exit
        raise UsageError(f"{message} (see --help)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="Write a seed file of a folder's registries in Container Registry and Cloud Registry (their "
        "repositories, images, policies and scans), read through the public API (reads only: it never changes "
        "anything), for 'ycr-emulator --seed'.",
        epilog="Not in the API, so not in the snapshot: which images are image lists, pending operations. "
        "last_modified is rebuilt from the order the endpoint lists images in (every image is read twice: "
        "by last_modified, then with its ties reversed). Access bindings and IP permissions are left out, "
        "with a note, if the token may not read them. A folder holding no registry the token can see gives an "
        "empty seed and a warning (exit 0). Exit codes: 0 written; 1 the endpoint could not be reached, or "
        "failed or refused a call (after the retries; nothing written), or the seed was written but this "
        "emulator cannot load it (the entry is named), or the endpoint answered what no registry holds (a page "
        "token again, pages without end, an enum value or timestamp the API does not define), or the output "
        "could not be written; 2 bad usage "
        "(nothing read); 130 interrupted (Ctrl-C; no file written, standard output may hold part of the seed).",
    )
    parser.add_argument("--endpoint", required=True, metavar="HOST:PORT", help="e.g. api.cloud.yandex.net:443")
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--folder-id", metavar="FOLDER", help="every registry of this folder")
    scope.add_argument("--registry-id", metavar="REGISTRY", help="this registry only")
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the seed to this file (atomically; an existing file is overwritten, a symlink written "
        "through to its target; not a device, directory or fifo); - or /dev/stdout, or no --output: "
        "standard output",
    )
    add_client_arguments(parser)
    return parser.parse_args(argv)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class ContainerRegistryReader(Reader):
    """The Container Registry calls of one snapshot."""

    def ip_permissions(self, registry_id: str) -> list[dict] | None:
        def read() -> list[dict]:
            response = self.call("RegistryService/ListIpPermission", registry_id=registry_id)
            return [
                {"action": enum_name(item, "action", f"registry {registry_id}: an IP permission"), "ip": item.ip}
                for item in response.permissions
            ]

        return self.optional("RegistryService/ListIpPermission", "IP permissions", read)

    def lifecycle_policies(self, repository_id: str) -> list[dict] | None:
        """The repository's lifecycle policies as seed entries, each with its dry runs' results and
        the images each found."""

        def read() -> list[dict]:
            policies = []
            for page in self.pages("LifecyclePolicyService/List", repository_id=repository_id):
                for policy in page.lifecycle_policies:
                    entry = {
                        "id": policy.id,
                        "name": policy.name,
                        "description": policy.description,
                        "status": enum_name(policy, "status", f"lifecycle policy {policy.id}"),
                        "created_at": format_timestamp(ns(policy.created_at, f"lifecycle policy {policy.id}")),
                        "rules": [
                            json_format.MessageToDict(rule, preserving_proto_field_name=True) for rule in policy.rules
                        ],
                    }
                    results = self._dry_runs(policy.id)
                    if results:
                        entry["dry_run_results"] = results
                    policies.append(entry)
            return policies

        return self.optional("LifecyclePolicyService/List", "lifecycle policies", read)

    def _dry_runs(self, policy_id: str) -> list[dict]:
        results = []
        for page in self.pages("LifecyclePolicyService/ListDryRunResults", lifecycle_policy_id=policy_id):
            for result in page.dry_run_lifecycle_policy_results:
                result_id = result.dry_run_lifecycle_policy_result_id
                found = self.pages("LifecyclePolicyService/ListDryRunResultAffectedImages",
                                   dry_run_lifecycle_policy_result_id=result_id)  # fmt: skip
                results.append({
                    "id": result_id,
                    "run_at": format_timestamp(ns(result.run_at, f"dry run {result_id}: run_at")),
                    "affected_images": [
                        image_entry(image, ns(image.created_at)) for page in found for image in page.affected_images
                    ],
                })  # fmt: skip
        return results

    def scan_results(self, repository_id: str, folder_id: str) -> list[dict] | None:
        """The repository's scan results as seed entries, each with the vulnerabilities it found."""

        def read() -> list[dict]:
            results = []
            for page in self.pages("ScannerService/List", repository_id=repository_id):
                for result in page.scan_results:
                    status = enum_name(result, "status", f"scan result {result.id}")
                    found = self.pages("ScannerService/ListVulnerabilities", scan_result_id=result.id)
                    results.append({
                        "id": result.id, "image_id": result.image_id, "repository_id": repository_id,
                        "folder_id": folder_id, "status": status,
                        "scanned_at": format_timestamp(ns(result.scanned_at, f"scan result {result.id}")),
                        "vulnerabilities": [
                            json_format.MessageToDict(v, preserving_proto_field_name=True)
                            for page in found for v in page.vulnerabilities
                        ],
                    })  # fmt: skip
            return results

        return self.optional("ScannerService/List", "scan results", read)

    def images(self, scope: dict, order_by: str, what: str) -> list[Message]:
        """Every image of the scope in this order; a running count on stderr once there are pages."""
        found: list[Message] = []
        for page in self.pages("ImageService/List", order_by=order_by, **scope):
            found.extend(page.images)
            if page.next_page_token or len(found) > len(page.images):
                self.say(f"{what}: {len(found)} read")
        return found


def tie_groups(ascending: list[str], ties_reversed: list[str]) -> list[list[str]]:
    """The images of equal last_modified, in order: ``ascending`` lists ids by (last_modified,
    id), ``ties_reversed`` by (last_modified, id descending), so a group ends exactly where both
    lists have listed the same ids. Ids in only one list (changed between the two readings) are
    left out."""
    common = set(ascending) & set(ties_reversed)
    groups: list[list[str]] = []
    group: list[str] = []
    unmatched: set[str] = set()
    for mine, theirs in zip((i for i in ascending if i in common), (i for i in ties_reversed if i in common)):
        group.append(mine)
        unmatched ^= {mine}
        unmatched ^= {theirs}
        if not unmatched:
            groups.append(group)
            group = []
    return groups


def last_modified_values(
    ascending: list[str], created: dict[str, int], ties_reversed: list[str] | None
) -> dict[str, int]:
    """A last_modified for each image (ns) that reproduces the endpoint's order: ``ascending``
    lists the ids by (last_modified, id). Each value is the smallest one not before the image's
    created_at that keeps the order, so untouched images keep last_modified = created_at. With
    ``ties_reversed`` the groups of equal values are exactly the endpoint's; without, an image
    shares its predecessor's value whenever the order allows it."""
    values: dict[str, int] = {}
    previous: int | None = None
    if ties_reversed is not None:
        for group in tie_groups(ascending, ties_reversed):
            value = max(created[image_id] for image_id in group)
            value = value if previous is None else max(value, previous + 1)
            values.update(dict.fromkeys(group, value))
            previous = value
        return values
    previous_id = ""
    for image_id in ascending:
        value = created[image_id] if previous is None else max(created[image_id], previous)
        if value == previous and image_id < previous_id:  # a tie would list it before its predecessor
            value += 1
        values[image_id], previous, previous_id = value, value, image_id
    return values


def blob_entry(blob: Message) -> dict:
    return {"id": blob.id, "digest": blob.digest, "size": blob.size, "urls": list(blob.urls)}


def image_entry(image: Message, last_modified_ns: int) -> dict:
    """An image as the seed holds it: every field as served; ``repository`` is the path after the registry id."""
    created_at_ns = ns(image.created_at, f"image {image.id}: created_at")
    entry = {
        "repository": image.name.partition("/")[2],
        "id": image.id,
        "digest": image.digest,
        "tags": list(image.tags),
        "created_at": format_timestamp(created_at_ns),
    }
    if last_modified_ns != created_at_ns:
        entry["last_modified"] = format_timestamp(last_modified_ns)
    entry["compressed_size"] = image.compressed_size
    if image.HasField("config"):
        entry["config"] = blob_entry(image.config)
    entry["layers"] = [blob_entry(layer) for layer in image.layers]
    return entry


def registry_entry(registry: Message) -> dict:
    entry = {
        "id": registry.id,
        "folder_id": registry.folder_id,
        "name": registry.name,
        "created_at": format_timestamp(ns(registry.created_at, f"registry {registry.id}: created_at")),
        "labels": dict(registry.labels),
    }
    status = enum_name(registry, "status", f"registry {registry.id}")
    if status in REGISTRY_STATUSES and status != "ACTIVE":
        entry["status"] = status
    return entry


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"  # the last word's plural
    return f"{number} {noun if number == 1 else plural}"


def take_snapshot(
    client: RegistryClient, *, folder_id: str | None = None, registry_id: str | None = None, say: Say = _stderr
) -> dict:
    """The seed (a dict) of every registry of ``folder_id`` in both APIs, or of the one
    ``registry_id`` (Container Registry's, else Cloud Registry's). An API the endpoint does not
    serve (UNIMPLEMENTED: Container Registry after its shutdown) is left out with a note."""
    container = _container_registries(ContainerRegistryReader(client, say), folder_id, registry_id)
    cloud = take_cloud_snapshot(CloudRegistryReader(client, say), folder_id=folder_id, registry_id=registry_id)
    if registry_id is not None and container is None and cloud is None:
        raise SnapshotError(f"RegistryService/Get: NOT_FOUND: registry {registry_id} is in neither API")
    if container is None and cloud is None:
        raise SnapshotError("RegistryService/List: UNIMPLEMENTED: the endpoint serves neither API")
    if cloud is None and folder_id is not None:
        say("note: the endpoint does not serve Cloud Registry (UNIMPLEMENTED): only Container Registry was read")
    registries, scans = container or ([], [])
    cloud_registries, cloud_scans = cloud or ([], [])
    if folder_id is not None and not registries and not cloud_registries:
        say(f"warning: folder {folder_id} holds no registries the token can see: is the folder id right?")
    seed = {"registries": registries + cloud_registries}
    if scans or cloud_scans:
        seed["scan_results"] = scans + cloud_scans
    return seed


def _container_registries(
    reader: ContainerRegistryReader, folder_id: str | None, registry_id: str | None
) -> tuple[list[dict], list[dict]] | None:
    """Container Registry's registries of the scope as seed entries and their scan results; None
    if it is not served (UNIMPLEMENTED) or, by id, holds no such registry (NOT_FOUND)."""
    try:
        if registry_id is not None:
            registries = [reader.call("RegistryService/Get", registry_id=registry_id)]
            scope = {"registry_id": registry_id}
        else:
            registries = [
                r for page in reader.pages("RegistryService/List", folder_id=folder_id) for r in page.registries
            ]
            scope = {"folder_id": folder_id}
            reader.say(f"folder {folder_id}: {_count(len(registries), 'Container Registry registry')}")
    except SnapshotError as error:
        if error.code == grpc.StatusCode.UNIMPLEMENTED:
            reader.say(f"note: Container Registry is not served here ({error}): only Cloud Registry is read")
            return None
        if registry_id is not None and error.code == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    images, ascending, ties = _read_images(reader, scope)
    created = {image.id: ns(image.created_at, f"image {image.id}: created_at") for image in images}
    last_modified = last_modified_values(ascending, created, ties) if ascending is not None else {}
    by_registry: dict[str, list[Message]] = {registry.id: [] for registry in registries}
    for image in sorted(images, key=lambda image: (created[image.id], image.id)):
        by_registry.get(image.name.partition("/")[0], []).append(image)  # a registry made since: not listed
    entries = [_registry(reader, registry, by_registry[registry.id], last_modified) for registry in registries]
    scans = [
        result
        for registry in entries
        for repository in registry["repositories"]
        for result in reader.scan_results(repository["id"], registry["folder_id"]) or ()
    ]
    return entries, scans


def _read_images(
    reader: ContainerRegistryReader, scope: dict
) -> tuple[list[Message], list[str] | None, list[str] | None]:
    """The scope's images by last_modified, and again with ties reversed (see last_modified_values)."""
    try:
        images = reader.images(scope, LAST_MODIFIED, "images")
    except SnapshotError as error:
        if error.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        reader.say(f"note: order_by={LAST_MODIFIED!r} refused ({error}); last_modified is left as created_at")
        return reader.images(scope, "", "images"), None, None
    ascending = [image.id for image in images]
    if len(images) < 2:  # no ties to tell apart
        return images, ascending, ascending
    try:
        ties = [image.id for image in reader.images(scope, TIES_REVERSED, "images (ties of last_modified)")]
    except SnapshotError as error:
        if error.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        reader.say(f"note: order_by={TIES_REVERSED!r} refused ({error}); ties of last_modified are guessed")
        ties = None
    return images, ascending, ties


def _registry(
    reader: ContainerRegistryReader, registry: Message, images: list[Message], last_modified: dict[str, int]
) -> dict:
    entry = add_found(
        registry_entry(registry),
        access_bindings=reader.access_bindings("RegistryService/ListAccessBindings", registry.id),
        ip_permissions=reader.ip_permissions(registry.id),
        scan_policy=reader.scan_policy("ScanPolicyService/GetByRegistry", registry.id, "scan policies"),
    )
    holding = {image.name for image in images}
    repositories = []
    for page in reader.pages("RepositoryService/List", registry_id=registry.id):
        for repository in page.repositories:
            # One made by a push goes with its last image; one listed while empty was upserted: kept.
            item = {
                "path": repository.name.partition("/")[2],
                "id": repository.id,
                "kept": repository.name not in holding,
            }
            bindings = reader.access_bindings("RepositoryService/ListAccessBindings", repository.id)
            if bindings:
                item["access_bindings"] = bindings
            policies = reader.lifecycle_policies(repository.id)
            if policies:
                item["lifecycle_policies"] = policies
                item["kept"] = True  # a repository with a policy stays while empty
            repositories.append(item)
    entry["repositories"] = repositories
    entry["images"] = [image_entry(image, last_modified.get(image.id, ns(image.created_at))) for image in images]
    empty = sum(item["kept"] for item in repositories)
    reader.say(
        f"registry {registry.id} ({registry.name}): {_count(len(repositories), 'repository')}"
        f"{f' ({empty} empty)' if empty else ''}, {_count(len(images), 'image')}"
    )
    without_config = sum(not image.HasField("config") for image in images)
    if without_config:
        reader.say(f"note: {_count(without_config, 'image')} served without a config blob: the emulator makes one up")
    return entry


# A registry entry's lists written one item a line, in this order (the rest of it on its first line).
LINED = (
    "folders",
    "lifecycle_policies",
    "artifact_access_bindings",
    "soft_deleted_artifacts",
    "repositories",
    "images",
)


def seed_text(seed: dict) -> str:
    """The seed as JSON with one repository, image, folder or policy a line: readable, and two
    snapshots of the same registry compare line by line (``diff``)."""

    def compact(value) -> str:
        return json.dumps(value, separators=(", ", ": "))

    blocks = []
    for registry in seed["registries"]:
        head = compact({k: v for k, v in registry.items() if k not in LINED})[:-1]
        lists = [
            f'   "{key}": [\n' + ",\n".join("    " + compact(item) for item in registry[key]) + "\n   ]"
            for key in LINED
            if key in registry
        ]
        blocks.append(f"  {head},\n" + ",\n".join(lists) + "}")
    text = '{"registries": [\n' + ",\n".join(blocks) + "\n]" if blocks else '{"registries": []'
    for key in (key for key in seed if key != "registries"):  # scan results: one a line
        text += f',\n "{key}": [\n' + ",\n".join("  " + compact(item) for item in seed[key]) + "\n ]"
    return text + "}\n"


def loading_problem(seed: dict) -> str | None:
    """Why this emulator could not load the seed (a value production serves that it does not
    accept), or None: checked by loading it into an empty store."""
    try:
        apply_seed(Store(), seed, CATALOGUE)
    except SeedError as error:
        return str(error)
    return None


def _summary(seed: dict) -> str:
    registries = seed["registries"]
    repositories = sum(len(registry["repositories"]) for registry in registries)
    images = sum(len(registry["images"]) for registry in registries)
    counts = [_count(len(registries), "registry"), _count(repositories, "repository"), _count(images, "image")]
    return ", ".join(counts)


def _fail(message: str, code: int) -> int:
    _stderr(f"{PROG}: {message}")
    return code


def output_path(output: str) -> Path | None:
    """Where ``--output`` writes: None for standard output; otherwise the file, a symlink resolved
    to its final target (the atomic rename then replaces the target, not the link). ClientError
    unless it is a regular file or a new one in a writable directory, checked before any call."""
    if output in STANDARD_OUTPUT:
        return None
    path = Path(os.path.realpath(output))
    try:
        kind = FILE_KINDS.get(stat.S_IFMT(path.stat().st_mode))
    except FileNotFoundError:
        kind = None  # a new file (or a missing directory, which check_writable names)
    except OSError as error:
        raise ClientError(f"--output {output}: {error.strerror or error}") from None
    if kind is not None:
        raise ClientError(f"--output {output}: {kind}, not a regular file (use - for standard output)")
    try:
        check_writable(path)
    except OSError as error:
        raise ClientError(f"--output {output}: cannot be written there ({error.strerror or error})") from None
    return path


_interrupted = threading.Event()  # Ctrl-C came: whatever failed after it, the answer is 130


def _on_interrupt(signum: int, frame) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


def main(argv: Iterable[str] | None = None) -> int:
    """``ycr-emulator snapshot ...``: 0 written; 1 the endpoint failed or refused a call (nothing
    written), the output could not be written, or what was written this emulator cannot load;
    2 bad usage; 130 interrupted. A Ctrl-C that grpc meets inside a call may come back as that
    call's CANCELLED error: it is still 130."""
    _interrupted.clear()
    handling = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_interrupt) if handling else None
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    finally:
        if handling:
            signal.signal(signal.SIGINT, previous)


def _main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except UsageError as error:
        return _fail(str(error), 2)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        for flag in ("endpoint", "folder_id", "registry_id", "token", "oauth_token"):
            value = getattr(args, flag)
            if value is not None:
                check_text(f"--{flag.replace('_', '-')}", value)
        check_endpoint(args.endpoint)
        if args.token and args.oauth_token:
            raise ClientError("give --token or --oauth-token, not both")
        if args.plaintext and args.ca_file:
            raise ClientError("--ca-file is for TLS: it cannot go with --plaintext")
        options = client_options(args)
        output = None if args.output is None else output_path(args.output)
    except ClientError as error:
        return _fail(str(error), 2)
    try:
        with RegistryClient(args.endpoint, **options) as client:
            seed = take_snapshot(client, folder_id=args.folder_id, registry_id=args.registry_id)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing written", 130)
    except (ClientError, grpc.RpcError, SnapshotError) as error:
        if _interrupted.is_set():
            return _fail("interrupted; nothing written", 130)
        if isinstance(error, grpc.RpcError):  # the OAuth token's exchange, in RegistryClient
            return _fail(f"IamTokenService/Create: {error_text(error)}; nothing written", 1)
        return _fail(f"{error}; nothing written", 1)
    text = seed_text(seed)
    problem = loading_problem(seed)
    if output is None:
        try:  # a full disk (/dev/full), a closed pipe
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as error:
            return _fail(f"cannot write standard output: {error.strerror or error}", 1)
        where = "standard output"
    else:
        try:
            write_text_atomically(output, text)
        except OSError as error:
            return _fail(f"--output {args.output}: cannot write: {error.strerror or error}", 1)
        where = args.output
    _stderr(f"wrote {where}: {_summary(seed)}")
    if problem is not None:
        return _fail(f"but this emulator cannot load it: {problem}; edit or remove that entry", 1)
    return 0
