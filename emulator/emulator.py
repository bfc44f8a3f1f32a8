"""``Emulator``: the whole emulator in-process, the composition root. It owns the state, serves
it over gRPC (emulator.rpc.server) and, if asked, the HTTP control plane (emulator.control.http);
every control operation (emulator.control.table) is one of its methods."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc

from emulator.api.errors import ApiError
from emulator.control.http import AdminServer, check_admin_token
from emulator.rpc.auth import Auth
from emulator.rpc.faults import FaultHandle, Faults
from emulator.rpc.health import wait_until_serving
from emulator.rpc.paging import PageTokens
from emulator.rpc.recording import CallRecorder
from emulator.rpc.server import (
    _bind,
    _request_fields,
    add_services,
    build_server,
    format_address,
)
from emulator.rpc.services import CATALOGUE
from emulator.rpc.tls import TlsMaterial, generated
from emulator.state.clock import Clock
from emulator.state.lifecycle import MAX_SCHEDULE_NS, LifecyclePolicy, LifecycleRun
from emulator.state.operation_modes import modes_json, parse_modes
from emulator.state.records import Copies, Image, Operation, Registry, Repository, detached
from emulator.state.seed import (
    add_lifecycle_policy_entry,
    add_registry_parts,
    add_repository_entry,
    apply_seed,
    check_declared_repositories,
    export_state,
    image_arguments,
    registry_arguments,
    set_manifests,
)
from emulator.state.stages import ACTIVE, parse_stage
from emulator.state.state_file import read_seed_file
from emulator.state.store import DEFAULT_MAX_FINISHED_OPERATIONS, Store


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _exact_time(fields: dict[str, Any]) -> dict[str, int]:
    """Take ``created_at_ns`` (nanoseconds since the epoch) out of ``fields``, checked."""
    if fields.get("created_at_ns") is None:
        fields.pop("created_at_ns", None)
        return {}
    ns = fields.pop("created_at_ns")
    if not isinstance(ns, int) or isinstance(ns, bool):
        raise ValueError(f"created_at_ns: must be an integer, got {ns!r}")
    if fields.get("created_at") is not None:
        raise ValueError("created_at_ns: give created_at or created_at_ns, not both")
    return {"created_at_ns": ns}


class Emulator:
    """An in-process emulator on a real socket. Use as a context manager or start()/stop().

    >>> with Emulator() as emulator:
    ...     channel = emulator.channel()
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | Path | Mapping | None = None,
        random_seed: int | None = None,
        admin_port: int | None = None,
        tls: bool = False,
        tls_port: int | None = None,
        tls_material: TlsMaterial | None = None,
        auth: str | None = None,
        tokens: Mapping[str, Iterable[str] | None] | None = None,
        max_operations: int = DEFAULT_MAX_FINISHED_OPERATIONS,
        operations: Mapping[str, str] | Iterable[str] | str | None = None,
        admin_token: str | None = None,
        clock: Clock | None = None,
        lifecycle_every: float | None = None,
        container_registry_stage: str | None = None,
    ):
        """
        ``seed``: data to load first (a seed file's path or the parsed JSON, as ``--seed`` and
        ``load_seed`` take it; ValueError naming the entry if it cannot be); ``reset()`` empties it
        as it empties everything. ``random_seed`` makes generated ids and digests reproducible.
        ``admin_port`` (0 = any free
        port) also serves the HTTP control plane (emulator.control.http). ``tls=True`` serves TLS on
        ``port``; ``tls_port`` serves TLS on a second port beside a plaintext ``port``. The
        certificate is made at start for localhost, 127.0.0.1 and ::1 (``ca_pem`` is its CA)
        unless ``tls_material`` is given. ``auth`` is none, any or strict (by default strict when
        ``tokens`` are given, else none); ``tokens`` maps the
        tokens accepted in strict mode to their folders (None: every folder).
        ``max_operations`` finished operations are kept (the oldest forgotten first).
        ``operations``: how long operations take (see ``configure_operations``); restored on reset.
        ``admin_token`` makes the control plane require ``Authorization: Bearer <admin_token>``
        on every request but ``GET /health``; without it the control plane is open.
        ``clock``: what every time-based behaviour reads (emulator.state.clock; default: the system
        time); ``advance_time`` moves it. ``lifecycle_every``: run the ACTIVE lifecycle policies every
        so many seconds of that clock (see ``schedule_lifecycle_policies``); restored on reset.
        ``container_registry_stage``: which Container Registry calls are served (see
        ``set_container_registry_stage``; default active); restored on reset. The stage and the
        ``operations`` given here win over the seed's, as the command line's do.
        """
        self.host = host
        self.port = port
        self.admin_port = admin_port
        check_admin_token(admin_token)
        self.admin_token = admin_token
        self.tls = tls
        self.tls_port = tls_port
        self._tls_material = tls_material
        if isinstance(seed, int):  # one word, one meaning: a seed is data, as on the command line
            raise ValueError(
                f"seed: the data to load (a seed file's path or a dict, as --seed and load_seed take), got {seed!r}; "
                f"for reproducible ids and digests give random_seed={seed}"
            )
        self.store = Store(random_seed, max_operations=max_operations, clock=clock)
        self.clock = self.store.clock
        self._default_operations = parse_modes(operations or {}, CATALOGUE)
        self.store.configure_operations(self._default_operations)
        self.auth = Auth(auth, tokens, clock=self.clock.now_ns)
        self._default_auth = (auth, dict(tokens or {}))
        self._tokens = PageTokens()
        self._faults = Faults(CATALOGUE)
        self._calls = CallRecorder(_request_fields, CATALOGUE.answers_to, clock=self.clock.now_ns)
        self._server: grpc.Server | None = None
        self._admin = None
        self._default_lifecycle_every = lifecycle_every
        self.schedule_lifecycle_policies(lifecycle_every)
        self._default_stage = parse_stage(ACTIVE if container_registry_stage is None else container_registry_stage)
        self.store.container_registry_stage = self._default_stage
        if seed is not None:
            self.load_seed(seed if isinstance(seed, Mapping) else Path(seed))
            if container_registry_stage is not None:
                self.store.container_registry_stage = self._default_stage
            if operations:
                self.store.configure_operations({**self.store.operation_modes, **self._default_operations})

    # ---- life cycle ----------------------------------------------------------------

    def start(self) -> Emulator:
        if (self.tls or self.tls_port is not None) and self._tls_material is None:
            self._tls_material = generated()
        credentials = self._tls_material.server_credentials() if self._tls_material else None
        server = build_server()
        bound = _bind(server, format_address(self.host, self.port), credentials if self.tls else None)
        if not bound:
            raise OSError(f"cannot listen on {format_address(self.host, self.port)} (is the port in use?)")
        self.port = bound
        if self.tls_port is not None and not self.tls:
            bound = _bind(server, format_address(self.host, self.tls_port), credentials)
            if not bound:
                raise OSError(f"cannot listen on {format_address(self.host, self.tls_port)} (is the port in use?)")
            self.tls_port = bound
        add_services(server, self.store, self._tokens, self.auth, self.advertised_address, self._faults, self._calls)
        server.start()
        self._server = server
        if self.admin_port is not None:
            try:
                self._admin = AdminServer(self, self.host, self.admin_port, self.admin_token)
            except OSError as error:
                self.stop()
                raise OSError(f"cannot serve the control plane on port {self.admin_port}: {error.strerror}") from None
            self._admin.start()
            self.admin_port = self._admin.port
        return self

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving. Calls in flight get up to ``grace`` seconds to finish (None: cancelled at
        once); connected clients are told to go away cleanly. Cancelling at once makes grpc log
        "Got goaway ... Cancelling all calls" in every client whose channel is still open."""
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    @property
    def admin_url(self) -> str | None:
        """``http://host:port`` of the control plane, when it is served."""
        return self._admin.url if self._admin is not None else None

    def wait(self) -> None:
        """Block until the server stops."""
        if self._server is not None:
            self._server.wait_for_termination()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``host:port`` of the main port (TLS when ``tls=True``, else plaintext)."""
        return format_address(self.host, self.port)

    @property
    def tls_endpoint(self) -> str | None:
        """``host:port`` serving TLS, if any: what the official SDK needs."""
        if self.tls:
            return self.endpoint
        return format_address(self.host, self.tls_port) if self.tls_port is not None else None

    @property
    def ca_pem(self) -> bytes | None:
        """The CA certificate (PEM) TLS clients must trust, when TLS is served."""
        return self._tls_material.ca_pem if self._tls_material else None

    def advertised_address(self) -> str:
        """What endpoint discovery answers: the TLS address if any (the SDK speaks only TLS)."""
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        port = self.port if self.tls or self.tls_port is None else self.tls_port
        return format_address(host, port)

    def channel(self, timeout: float = 5.0) -> grpc.Channel:
        """A channel to ``endpoint`` (trusting ``ca_pem`` under TLS), ready to use."""
        if self.tls:
            channel = grpc.secure_channel(self.endpoint, grpc.ssl_channel_credentials(self.ca_pem))
        else:
            channel = grpc.insecure_channel(self.endpoint)
        wait_until_serving(channel, timeout)
        return channel

    def configure_auth(self, mode: str | None = None, tokens: Mapping[str, Iterable[str] | None] | None = None) -> None:
        """Switch the auth mode (none, any, strict; without one: strict if tokens are given, else
        none) and the tokens strict mode accepts."""
        self.auth.configure(mode, tokens)

    # ---- state -----------------------------------------------------------------------

    def configure_operations(self, modes: Mapping[str, str] | Iterable[str] | str) -> None:
        """How long operations take, replacing the modes set before: ``{"*": "polls:2",
        "ImageService/Delete": "delay:500"}`` or specs ``["polls:2", "ImageService/Delete=delay:500"]``.
        Modes: ``immediate``, ``polls:N`` (done on the N-th OperationService.Get), ``delay:MS``.
        Operations already made keep theirs. ValueError names a bad mode or method."""
        self.store.configure_operations(parse_modes(modes, CATALOGUE))

    @property
    def operation_modes(self) -> dict[str, str]:
        """The modes in force, by method (``*``: every other method); empty: all immediate."""
        return modes_json(self.store.operation_modes)

    # ---- time ------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The emulator's time (its clock's): what it stamps on what it makes."""
        return datetime.fromtimestamp(self.clock.now_ns() / 1e9, timezone.utc)

    def advance_time(self, seconds: float) -> datetime:
        """Move the emulator's clock ``seconds`` forward and finish what is due by then: delay-mode
        operations, IAM token expiry, images' ages all follow. Returns the new time. ValueError for
        a negative or non-finite step."""
        self.clock.advance(seconds)
        self.store.advance()
        return self.now

    # ---- faults and recorded calls ----------------------------------------------------------

    def add_fault(self, /, **rule: Any) -> FaultHandle:
        """Make matching calls fail, slow down or finish their operation with an error (see
        emulator.rpc.faults for the rule's fields). Returns a handle: ``.id``, ``.rule``, ``.remove()``,
        and a context manager removing the rule on exit. ValueError names a bad field."""
        added = self._faults.add(rule)
        return FaultHandle(self, added.id, added.to_json())

    @property
    def faults(self) -> list[dict]:
        """The fault rules in force, in the order they apply (``count``/``after`` as they stand)."""
        return self._faults.rules()

    def remove_fault(self, fault_id: str) -> bool:
        """Remove one rule; False if there is none with that id (it may have expired)."""
        return self._faults.remove(fault_id)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def calls(self) -> list[dict]:
        """Every call answered since the last reset, oldest first (bounded: see emulator.rpc.recording):
        time, method, request (field names as in the .proto), code, subject, request_id, fault."""
        return self._calls.calls()

    def calls_of(self, method: str) -> list[dict]:
        """The recorded calls of one method (``Delete``, ``ImageService/Delete``, a full name) or service;
        ValueError for a name no served method or service has (a misspelling never reads as "no calls")."""
        CATALOGUE.named(method)
        return self._calls.calls(method)

    def reset(self) -> None:
        """Empty the state (registries, images, operations, fault rules, recorded calls) in O(1);
        auth, operation modes and the clock (advance_time undone) back to how they started."""
        self._faults.clear()
        self._calls.clear()
        self.store.reset()
        self._tokens.rotate()
        self.clock.rewind()  # nothing that remembers time survives a reset: each test starts at its own now
        self.auth.configure(*self._default_auth)
        self.store.configure_operations(self._default_operations)
        self.schedule_lifecycle_policies(self._default_lifecycle_every)
        self.store.container_registry_stage = self._default_stage

    def add_registry(self, folder_id: str, **fields: Any) -> Registry:
        """Add a registry. ``fields`` are the seed format's: id, name, created_at, labels,
        access_bindings, ip_permissions, repositories (images: add_image or load_seed).

        ``created_at_ns`` (int) may stand for created_at. Bad arguments raise ValueError naming
        the argument, and add nothing."""
        self.store.advance()
        exact = _exact_time(fields)
        entry = {"folder_id": folder_id, **_given(fields)}
        if "images" in entry:
            raise ValueError("images: add them with add_image (or load a seed)")
        arguments = registry_arguments(entry)
        with self.store.atomic():
            registry = self.store.add_registry(**arguments, **exact)
            try:
                add_registry_parts(self.store, registry, entry)
                check_declared_repositories(self.store, registry, entry)  # no images here: kept only
            except BaseException:
                self.store.delete_registry(registry.id)
                raise
            return detached(registry)

    def add_repository(self, registry_id: str, path: str, **fields: Any) -> Repository:
        """Add a repository ``<registry_id>/<path>`` that stays while empty, as an upserted one
        does (an existing one is returned, now kept; its access bindings replaced only if given).
        ``fields``: id, access_bindings. A repository that is not kept comes with its first image."""
        self.store.advance()
        if "kept" in fields:
            raise ValueError(
                "kept: add_repository makes repositories that stay while empty; one that is not kept "
                "comes with its first image (add_image)"
            )
        return detached(add_repository_entry(self.store, registry_id, {"path": path, **_given(fields)}))

    def add_image(self, registry_id: str, repository: str, **fields: Any) -> Image:
        """Add an image to ``<registry_id>/<repository>``. ``fields`` are the seed format's:
        id, digest, tags, created_at, compressed_size, config, layers (dicts or Blobs), manifests (the
        digests of the images of its repository this image list references: they cannot be deleted first)."""
        self.store.advance()
        exact = _exact_time(fields)
        manifests = fields.pop("manifests", None)
        arguments = image_arguments({"repository": repository, **_given(fields)}, self.store)
        with self.store.atomic():
            image = self.store.add_image(registry_id, **arguments, **exact)
            if manifests is not None:
                try:
                    set_manifests(self.store, image, manifests)
                except BaseException:
                    self.store.delete_image(image.id)
                    raise
            return detached(image)

    def bulk(self):
        """A context manager for loading many images fast: ``add_image`` calls inside it are
        indexed once at its end instead of one by one. Requests wait until the block ends.

        >>> with emulator.bulk():
        ...     for n in range(100_000):
        ...         emulator.add_image(registry.id, "app", tags=[f"v{n}"])
        """
        return self.store.bulk()

    def _changed_image(self, change: Callable[..., Image], *arguments: str) -> Image:
        """A store change of one image, as the Python API answers it: a copy of the image, and
        ValueError (naming image_id) for what the store refuses."""
        self.store.advance()
        try:
            return detached(change(*arguments))
        except ApiError as error:
            raise ValueError(f"image_id: {error.message}") from None

    def delete_image(self, image_id: str) -> Image:
        """Delete an image at once, as if it had never been pushed (no operation is recorded);
        an unknown id, or an image an image list references, raises ValueError."""
        return self._changed_image(self.store.delete_image, image_id)

    def tag_image(self, image_id: str, tag: str) -> Image:
        """Put a tag on an image, moving it off the image of its repository that held it (as a
        push does); both are modified now (their last_modified)."""
        return self._changed_image(self.store.tag_image, image_id, tag)

    def untag_image(self, image_id: str, tag: str) -> Image:
        """Take a tag off an image; ValueError if it has no such tag."""
        return self._changed_image(self.store.untag_image, image_id, tag)

    def add_lifecycle_policy(self, repository_id: str, **fields: Any) -> LifecyclePolicy:
        """Add a lifecycle policy to a repository (which then stays while empty). ``fields`` are the
        seed format's: id, name, description, status (DISABLED unless given), created_at, rules (each
        in protobuf's JSON mapping of LifecycleRule: ``{"tag_regexp": "v.*", "expire_period": "172800s",
        "retained_top": 5}``), dry_run_results. Bad arguments raise ValueError naming the argument."""
        self.store.advance()
        with self.store.atomic():
            try:
                repository = self.store.get_repository(repository_id)
            except ApiError as error:
                raise ValueError(f"repository_id: {error.message}") from None
            before = set(self.store.lifecycle_policies)
            try:
                return detached(add_lifecycle_policy_entry(self.store, repository, _given(fields)))
            except BaseException:  # all or nothing: the policy goes, with the results already added
                for policy_id in set(self.store.lifecycle_policies) - before:
                    self.store.delete_lifecycle_policy(policy_id)
                raise

    def run_lifecycle_policies(self, lifecycle_policy_id: str | None = None) -> list[LifecycleRun]:
        """Run the ACTIVE lifecycle policies now (or the ACTIVE one named), as production does
        regularly: each deletes the images its rules require, as ImageService.Delete does (one done
        operation each; an image an image list outside them references is kept). Then Cloud
        Registry's ENABLED ones (or the one named): artifacts, HARD deleted now, SOFT after their
        cooldown (``soft_deleted``: marked DELETED meanwhile). What each did."""
        self.store.advance()
        try:
            return self.store.run_lifecycle_policies(lifecycle_policy_id)
        except ApiError as error:
            raise ValueError(f"lifecycle_policy_id: {error.message}") from None

    def schedule_lifecycle_policies(self, every: float | None) -> None:
        """Run the ACTIVE lifecycle policies every ``every`` seconds of the emulator's clock, the first
        time ``every`` seconds from now (None: only when run_lifecycle_policies is called). A run that
        is due happens before the next request is served, once however many periods have passed."""
        if every is not None and (
            isinstance(every, bool) or not isinstance(every, (int, float)) or not 0 < every <= MAX_SCHEDULE_NS / 1e9
        ):
            raise ValueError(f"every: must be a positive number of seconds, at most 100 years, or None, got {every!r}")
        self.store.schedule_lifecycle_policies(None if every is None else max(1, round(every * 1_000_000_000)))

    def add_vulnerability_report(self, digest: str, vulnerabilities: list) -> None:
        """What a scan of any image with this digest finds from now on: ``vulnerabilities`` in protobuf's
        JSON mapping of Vulnerability (``{"severity": "HIGH", "package": {"name": "CVE-2024-1",
        "package": "openssl", "version": "3.0.1", "fixed_by": "3.0.2"}}``); an empty list: it scans
        clean. Bad arguments raise ValueError naming the argument."""
        self.store.advance()
        entries = list(vulnerabilities) if isinstance(vulnerabilities, (list, tuple)) else vulnerabilities
        report = {"digest": digest, "vulnerabilities": entries}
        try:
            self.load_seed({"registries": [], "vulnerability_reports": [report]})
        except ValueError as error:  # named as the arguments, not as a seed's entries
            raise ValueError(str(error).removeprefix("vulnerability_reports[0].")) from None

    @property
    def lifecycle_policies(self) -> dict[str, LifecyclePolicy]:
        """A snapshot of the lifecycle policies by id."""
        return self._snapshot("lifecycle_policies")

    def health(self) -> str:
        """``SERVING`` while started (as ``GET /health`` answers)."""
        return "SERVING" if self._server is not None else "NOT_SERVING"

    def set_folder_cloud(self, folder_id: str, cloud_id: str) -> None:
        """Say which cloud a folder belongs to, for Cloud Registry's cloud-wide migration calls (every
        folder is in ``b1g0000000000000cloud`` unless said otherwise; a seed's ``clouds`` says it too).
        ValueError for an id the API could not carry."""
        self.store.advance()
        self.store.set_folder_cloud(folder_id, cloud_id)

    def set_container_registry_stage(self, stage: str) -> str:
        """Which Container Registry calls are served, as production's shutdown went: ``active`` (all),
        ``read-only`` (reads only: production since 2026-11-10), ``shut-down`` (none: production from
        2026-12-14), ``by-date`` (the stage of the emulator's clock); ``STAGE:CODE`` sets the status
        its refusals carry (default FAILED_PRECONDITION for read-only, UNIMPLEMENTED for shut-down).
        Cloud Registry is never affected. Returns the stage as written; ValueError for a bad one."""
        try:
            self.store.container_registry_stage = parse_stage(stage)
        except ValueError as error:  # named as this argument (and the control plane's field) is
            raise ValueError(f"stage: {str(error).partition(': ')[2]}") from None
        return self.container_registry_stage

    @property
    def container_registry_stage(self) -> str:
        """The Container Registry stage in force, as written (``read-only``, ``shut-down:UNAVAILABLE``)."""
        return self.store.container_registry_stage.spec

    def info(self) -> dict:
        """How to reach the gRPC port (as ``GET /info`` answers): endpoint, tls_endpoint, ca_pem, auth,
        operation modes, Container Registry's stage."""
        return {
            "endpoint": self.endpoint,
            "tls_endpoint": self.tls_endpoint,
            "ca_pem": self.ca_pem.decode() if self.ca_pem else None,
            "auth": self.auth.mode,
            "operation_modes": self.operation_modes,
            "container_registry_stage": self.container_registry_stage,
            # by-date's stage at the emulator's clock (the others: themselves)
            "container_registry_stage_in_force": self.store.container_registry_stage.at(self.store.clock.now_ns()),
        }

    def state(self, *, complete: bool = True) -> dict:
        """The whole state in the seed format (as ``GET /state`` answers); ``complete=False``
        leaves out what loading derives again (generated blobs), as the state file does."""
        self.store.advance()
        return export_state(self.store, complete=complete)

    def counts(self) -> dict[str, int]:
        """How many registries, images and operations there are, without copying them."""
        self.store.advance()
        with self.store.atomic():
            return {
                "registries": len(self.store.registries),
                "images": len(self.store.images),
                "operations": len(self.store.operations),
            }

    @property
    def registries(self) -> dict[str, Registry]:
        """A snapshot of the registries by id."""
        return self._snapshot("registries")

    @property
    def repositories(self) -> dict[str, Repository]:
        """A snapshot of the repositories by id."""
        return self._snapshot("repositories")

    @property
    def images(self) -> dict[str, Image]:
        """A snapshot of the images by id."""
        return self._snapshot("images")

    @property
    def operations(self) -> dict[str, Operation]:
        """A snapshot of the operations by id."""
        return self._snapshot("operations")

    def _snapshot(self, table: str) -> dict:
        """Copies of one of the state's tables (``registries``...) by id, read as one step once what is
        due has finished (the table is looked up under the lock: a reset replaces it)."""
        self.store.advance()
        with self.store.atomic():
            return {key: detached(record) for key, record in getattr(self.store, table).items()}

    def load_seed(self, seed: str | Path | dict) -> tuple[Sequence[Registry], Sequence[Image]]:
        """Load seed data (a file path or the parsed JSON), all or nothing. Returns the registries and
        images it added, as sequences of copies made when read."""
        self.store.advance()
        data = read_seed_file(seed) if isinstance(seed, (str, Path)) else seed
        registries, images = apply_seed(self.store, data, CATALOGUE)
        return Copies(registries), Copies(images)
