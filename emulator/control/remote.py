"""The emulator out of process: start ``ycr-emulator`` as a subprocess, and drive any
running emulator through its control plane with the same API as ``Emulator``."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc

from emulator.cli import parse_ready_line
from emulator.control.table import BY_NAME
from emulator.emulator import FaultHandle
from emulator.rpc.auth import default_mode
from emulator.rpc.server import wait_until_serving
from emulator.state.records import AccessBinding, Blob, Image, IpPermission, Operation, Registry, Repository
from emulator.state.seed import format_timestamp, parse_timestamp, read_seed_file


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(parse_timestamp(value, "created_at"))
    if isinstance(value, Blob):
        return {"id": value.id, "digest": value.digest, "size": value.size, "urls": list(value.urls)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _moment(text: str) -> datetime:
    return datetime.fromtimestamp(parse_timestamp(text, "now") / 1e9, timezone.utc)


def _blob(entry: dict) -> Blob:
    return Blob(id=entry["id"], digest=entry["digest"], size=entry["size"], urls=tuple(entry.get("urls", ())))


def registry_from_json(entry: dict) -> Registry:
    return Registry(
        id=entry["id"],
        folder_id=entry["folder_id"],
        name=entry["name"],
        created_at_ns=parse_timestamp(entry["created_at"], "created_at"),
        labels=dict(entry.get("labels", {})),
        access_bindings=_access_bindings(entry),
        ip_permissions=tuple(IpPermission(item["action"], item["ip"]) for item in entry.get("ip_permissions", ())),
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


class RemoteEmulator:
    """An emulator running elsewhere, reached at ``endpoint`` (gRPC) and ``admin_url`` (HTTP).

    Offers the same API as the in-process ``Emulator``: reset, add_registry, add_image,
    load_seed, registries, images, operations, channel(). ``admin_token`` is sent as
    ``Authorization: Bearer <admin_token>`` to a control plane started with ``--admin-token``.
    Bad input raises ValueError; a missing or wrong admin token, PermissionError.
    """

    def __init__(self, endpoint: str, admin_url: str, *, timeout: float = 30.0, admin_token: str | None = None):
        self.endpoint = endpoint
        self.admin_url = admin_url.rstrip("/")
        self.timeout = timeout
        self.admin_token = admin_token

    def _call(self, name: str, body: Any = None) -> Any:
        """Run the control operation ``name`` (emulator.control.table) on the remote emulator."""
        operation = BY_NAME[name]
        method, path = operation.method, operation.path
        if operation.body == "params":  # parameters go in the path and query, not a body
            path, body = operation.target(body or {}), None
        data = json.dumps(_jsonable(body)).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.admin_token is not None:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        request = urllib.request.Request(self.admin_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:  # it holds the response: closed here, not left to the garbage collector
                try:
                    message = json.loads(error.read())["error"]
                except (ValueError, KeyError, TypeError):
                    message = f"HTTP {error.code}"
            if error.code == 400:
                raise ValueError(message) from None
            if error.code == 401:
                given = "a wrong admin token" if self.admin_token is not None else "no admin token"
                raise PermissionError(f"control plane {self.admin_url} refused {given}: {message}") from None
            raise RuntimeError(f"control plane {method} {path}: HTTP {error.code}: {message}") from None

    def channel(self, timeout: float = 5.0) -> grpc.Channel:
        channel = grpc.insecure_channel(self.endpoint)
        wait_until_serving(channel, timeout)
        return channel

    def health(self) -> str:
        return self._call("health")["status"]

    def info(self) -> dict:
        """How to reach the gRPC port: endpoint, tls_endpoint, ca_pem, auth mode."""
        return self._call("info")

    @property
    def tls_endpoint(self) -> str | None:
        return self.info()["tls_endpoint"]

    @property
    def ca_pem(self) -> bytes | None:
        """The CA certificate (PEM, as bytes, like ``Emulator.ca_pem``) TLS clients must trust."""
        ca_pem = self.info()["ca_pem"]
        return ca_pem.encode() if ca_pem else None

    def configure_auth(self, mode: str | None = None, tokens: dict | None = None) -> None:
        """As Emulator.configure_auth: without a mode, strict if tokens are given, else none."""
        mode = default_mode(tokens) if mode is None else mode
        tokens = {token: list(folders) if folders is not None else None for token, folders in (tokens or {}).items()}
        self._call("configure_auth", {"mode": mode, "tokens": tokens})

    def reset(self) -> None:
        self._call("reset", {})

    def delete_image(self, image_id: str) -> Image:
        """As Emulator.delete_image."""
        entry = self._call("delete_image", {"id": image_id})
        return image_from_json(entry, entry["registry_id"])

    def tag_image(self, image_id: str, tag: str) -> Image:
        entry = self._call("tag_image", {"image_id": image_id, "tag": tag})
        return image_from_json(entry, entry["registry_id"])

    def untag_image(self, image_id: str, tag: str) -> Image:
        entry = self._call("untag_image", {"image_id": image_id, "tag": tag})
        return image_from_json(entry, entry["registry_id"])

    def add_fault(self, **rule: Any) -> FaultHandle:
        """As Emulator.add_fault."""
        stored = self._call("add_fault", rule)
        return FaultHandle(self, stored["id"], stored)

    @property
    def faults(self) -> list[dict]:
        return self._call("faults")

    def remove_fault(self, fault_id: str) -> bool:
        try:
            self._call("remove_fault", {"id": fault_id})
        except RuntimeError:  # 404: no such rule
            return False
        return True

    def clear_faults(self) -> None:
        self._call("clear_faults")

    @property
    def calls(self) -> list[dict]:
        return self._call("calls")

    def calls_of(self, method: str) -> list[dict]:
        return self._call("calls", {"method": method})

    @property
    def now(self) -> datetime:
        """As Emulator.now: the emulator's time."""
        return _moment(self._call("now")["now"])

    def advance_time(self, seconds: float) -> datetime:
        """As Emulator.advance_time: move the emulator's clock forward; the new time."""
        return _moment(self._call("advance_time", {"seconds": seconds})["now"])

    def configure_operations(self, modes: Any) -> None:
        """As Emulator.configure_operations."""
        self._call("configure_operations", {"modes": modes if isinstance(modes, (dict, list)) else [modes]})

    @property
    def operation_modes(self) -> dict[str, str]:
        return self.info()["operation_modes"]

    def add_registry(self, folder_id: str, **fields: Any) -> Registry:
        fields = {key: _jsonable(value) for key, value in fields.items() if value is not None}
        return registry_from_json(self._call("add_registry", {"folder_id": folder_id, **fields}))

    def add_image(self, registry_id: str, repository: str, **fields: Any) -> Image:
        fields = {key: _jsonable(value) for key, value in fields.items() if value is not None}
        entry = self._call("add_image", {"registry_id": registry_id, "repository": repository, **fields})
        return image_from_json(entry, registry_id)

    def load_seed(self, seed: str | Path | dict) -> tuple[list[Registry], list[Image]]:
        data = read_seed_file(seed) if isinstance(seed, (str, Path)) else seed
        answer = self._call("load_seed", data)
        return (
            [registry_from_json(entry) for entry in answer["registries"]],
            [image_from_json(entry, entry["registry_id"]) for entry in answer["images"]],
        )

    def state(self) -> dict:
        """The whole state in the seed format."""
        return self._call("state")

    @property
    def registries(self) -> dict[str, Registry]:
        return {entry["id"]: registry_from_json(entry) for entry in self.state()["registries"]}

    def add_repository(self, registry_id: str, path: str, **fields: Any) -> Repository:
        """As Emulator.add_repository."""
        entry = self._call("add_repository", {"registry_id": registry_id, "path": path, **fields})
        return repository_from_json(entry, entry["registry_id"])

    @property
    def repositories(self) -> dict[str, Repository]:
        return {
            repository["id"]: repository_from_json(repository, registry["id"])
            for registry in self.state()["registries"]
            for repository in registry.get("repositories", ())
        }

    @property
    def images(self) -> dict[str, Image]:
        return {
            image["id"]: image_from_json(image, registry["id"])
            for registry in self.state()["registries"]
            for image in registry["images"]
        }

    @property
    def operations(self) -> dict[str, Operation]:
        return {entry["id"]: operation_from_json(entry) for entry in self.state()["operations"]}


class EmulatorProcess(RemoteEmulator):
    """``ycr-emulator`` in a subprocess with the control plane on; ready when start() returns.

    Starts empty (no demo data) unless ``args`` say otherwise. ``admin_token`` is passed as
    ``--admin-token`` (visible to local users in the process list) and used by this object.
    The process never outlives this one: it holds a pipe to it as its stdin and stops when the
    pipe closes (``--stop-on-stdin-eof``), which the kernel does however this process ends,
    SIGKILL included.
    """

    def __init__(
        self, args: list[str] = (), *, start_timeout: float = 30.0, empty: bool = True, admin_token: str | None = None
    ):
        self.args = list(args)
        self.start_timeout = start_timeout
        self.empty = empty
        self.admin_token = admin_token
        self.process: subprocess.Popen | None = None

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "emulator", "--port", "0", "--admin-port", "0", "--log-level", "warning"]
        command.append("--stop-on-stdin-eof")
        if self.admin_token is not None:
            command.append(f"--admin-token={self.admin_token}")  # a token may start with "-"
        # stderr goes to a file: a pipe nobody reads would fill up and stall the emulator.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command + self.args,
            stdin=subprocess.PIPE,  # never written: its closing is the signal to stop
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.start_timeout).strip()
        except queue.Empty:
            line = ""
        ready = parse_ready_line(line)
        if ready is None or not ready.admin_url:
            if self.process.poll() is None:
                self.process.kill()
            self.stop()
            raise RuntimeError(f"ycr-emulator did not start: {line or self.log().strip() or 'no output'}")
        super().__init__(ready.endpoint, ready.admin_url, admin_token=self.admin_token)
        if self.empty:
            self.reset()
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop in ``timeout`` seconds; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if not isinstance(self._stderr, io.BytesIO):  # the file is closed; what it held stays readable
            self._stderr.seek(0)
            self._stderr, file = io.BytesIO(self._stderr.read()), self._stderr
            file.close()
        return self.process.returncode

    def log(self) -> str:
        """What the process wrote to stderr (its log) so far; after stop(), all of it."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
