"""The emulator out of process: start ``ycr-emulator`` as a subprocess, and drive any
running emulator through its control plane with the same API as ``Emulator``."""

from __future__ import annotations

import http.client
import json
import math
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc

from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.control.table import BY_NAME, OPERATIONS, ControlOperation
from emulator.rpc.auth import default_mode
from emulator.rpc.faults import FaultHandle
from emulator.rpc.health import wait_until_serving
from emulator.state.codecs import (
    blob_json,
    format_timestamp,
    image_from_json,
    lifecycle_policy_from_json,
    lifecycle_run_from_json,
    operation_from_json,
    parse_timestamp,
    registry_from_json,
    repository_from_json,
)
from emulator.state.lifecycle import LifecyclePolicy, LifecycleRun
from emulator.state.records import Blob, Image, Operation, Registry, Repository
from emulator.state.state_file import read_seed_file


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(parse_timestamp(value, "created_at"))
    if isinstance(value, Blob):
        return blob_json(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


class ControlPlaneError(RuntimeError):
    """The control plane answered an HTTP status other than 200, 400 and 401 (``status``)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class RemoteEmulator:
    """An emulator running elsewhere, reached at ``endpoint`` (gRPC) and ``admin_url`` (HTTP).

    Offers the same API as the in-process ``Emulator``: every control operation is a method
    generated from the control table (emulator.control.table; see ``_generated``), and the few
    below are written out where the Python API does more than send (a seed read from a local
    file, a fault handle, records read from the state). ``admin_token`` is sent as
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
        try:
            data = json.dumps(_jsonable(body), allow_nan=False).encode() if body is not None else None
        except ValueError:  # NaN or an infinity: JSON has no such number, and the control plane says so
            fields = ", ".join(key for key, value in (body or {}).items() if _not_finite(value)) or "body"
            raise ValueError(f"{fields}: must be a finite number (JSON has no NaN or infinity)") from None
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
            detail = "" if message == f"HTTP {error.code}" else f": {message}"
            raise ControlPlaneError(f"control plane {method} {path}: HTTP {error.code}{detail}", error.code) from None

    def wait_for_control_plane(self, timeout: float, on_wait: Callable[[str], None] | None = None) -> dict:
        """Its ``info()``, once its control plane answers (an emulator may still be starting):
        TimeoutError after ``timeout`` seconds of nothing listening; at once, PermissionError for a
        missing or wrong admin token, and ConnectionError for what waiting cannot mend (a host no
        resolver knows, a server that answers but is no emulator's control plane)."""
        deadline = time.monotonic() + timeout
        said = on_wait is None
        while True:
            try:
                return self.info()
            except PermissionError:
                raise
            except ControlPlaneError as error:  # an HTTP answer, but not the control plane's
                raise ConnectionError(
                    f"{self.admin_url} is not an emulator's control plane (HTTP {error.status})"
                ) from None
            except http.client.HTTPException as error:  # something answers, but not HTTP (a gRPC or TLS port)
                raise ConnectionError(
                    f"{self.admin_url} is not an emulator's control plane (it answers, but not in HTTP: "
                    f"{type(error).__name__})"
                ) from None
            except ValueError:  # an answer that is not JSON
                raise ConnectionError(
                    f"{self.admin_url} is not an emulator's control plane (its answer is not JSON)"
                ) from None
            except OSError as error:  # urllib's URLError: nothing listens there (yet), or no such host
                reason = getattr(error, "reason", error)
                if isinstance(reason, socket.gaierror):
                    raise ConnectionError(f"{self.admin_url}: its host cannot be resolved ({reason})") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"no emulator answers at {self.admin_url} (waited {timeout:.0f} s: {reason})"
                    ) from None
                if not said and deadline - time.monotonic() < timeout - 1:  # after a second: say so, once
                    on_wait(
                        f"waiting up to {timeout:.0f} s for the emulator's control plane at {self.admin_url} ({reason})"
                    )
                    said = True
                time.sleep(0.1)

    def accepts(self, token: str, folder_id: str) -> bool:
        """Whether its gRPC auth takes ``token`` (a RegistryService.List of ``folder_id`` is not
        answered UNAUTHENTICATED)."""
        request = message_class(f"{CONTAINER_REGISTRY}.ListRegistriesRequest")(folder_id=folder_id)
        with self.channel() as channel:
            call = channel.unary_unary(f"/{CONTAINER_REGISTRY}.RegistryService/List")
            try:
                call(request.SerializeToString(), metadata=[("authorization", f"Bearer {token}")], timeout=10)
            except grpc.RpcError as error:
                return error.code() != grpc.StatusCode.UNAUTHENTICATED
        return True

    def channel(self, timeout: float = 5.0) -> grpc.Channel:
        channel = grpc.insecure_channel(self.endpoint)
        wait_until_serving(channel, timeout)
        return channel

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

    def add_fault(self, /, **rule: Any) -> FaultHandle:
        """As Emulator.add_fault."""
        stored = self._call("add_fault", rule)
        return FaultHandle(self, stored["id"], stored)

    def remove_fault(self, fault_id: str) -> bool:
        try:
            self._call("remove_fault", {"id": fault_id})
        except RuntimeError:  # 404: no such rule
            return False
        return True

    def calls_of(self, method: str) -> list[dict]:
        return self._call("calls", {"method": method})

    def configure_operations(self, modes: Any) -> None:
        """As Emulator.configure_operations."""
        self._call("configure_operations", {"modes": modes if isinstance(modes, (dict, list)) else [modes]})

    @property
    def operation_modes(self) -> dict[str, str]:
        return self.info()["operation_modes"]

    def load_seed(self, seed: str | Path | dict) -> tuple[list[Registry], list[Image]]:
        data = read_seed_file(seed) if isinstance(seed, (str, Path)) else seed
        answer = self._call("load_seed", data)
        return (
            [registry_from_json(entry) for entry in answer["registries"]],
            [image_from_json(entry, entry["registry_id"]) for entry in answer["images"]],
        )

    @property
    def registries(self) -> dict[str, Registry]:
        return {entry["id"]: registry_from_json(entry) for entry in self.state()["registries"]}

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

    @property
    def lifecycle_policies(self) -> dict[str, LifecyclePolicy]:
        return {
            policy["id"]: lifecycle_policy_from_json(
                {"registry_id": registry["id"], "repository_id": repository["id"], **policy}
            )
            for registry in self.state()["registries"]
            for repository in registry.get("repositories", ())
            for policy in repository.get("lifecycle_policies", ())
        }

    def run_lifecycle_policies(self, lifecycle_policy_id: str | None = None) -> list[LifecycleRun]:
        """As Emulator.run_lifecycle_policies."""
        body = {} if lifecycle_policy_id is None else {"lifecycle_policy_id": lifecycle_policy_id}
        return [lifecycle_run_from_json(run) for run in self._call("run_lifecycle_policies", body)["runs"]]


def _generated(operation: ControlOperation):
    """RemoteEmulator's method (or property) for one control operation: its positional arguments
    and (if the operation takes them) keyword fields become the request, the answer is decoded."""
    names = [argument.partition(":")[0] for argument in operation.arguments]
    fields_of = {name: argument.partition(":")[2] or name for name, argument in zip(names, operation.arguments)}

    def call(self: RemoteEmulator, *args: Any, **given: Any) -> Any:
        if len(args) > len(names):
            raise TypeError(f"{operation.name}() takes {len(names)} positional arguments, {len(args)} given")
        body = {fields_of[name]: value for name, value in zip(names, args)}
        for name, value in given.items():
            if name in fields_of:
                body[fields_of[name]] = value
            elif operation.extra_fields:
                if value is not None:
                    body[name] = _jsonable(value)
            else:
                raise TypeError(f"{operation.name}() got an unexpected keyword argument {name!r}")
        missing = [name for name in names if fields_of[name] not in body]
        if missing:
            raise TypeError(f"{operation.name}() missing argument {missing[0]!r}")
        if operation.body == "optional" and not body:
            body = {}
        answer = self._call(operation.name, body if body or operation.body != "none" else None)
        return operation.answer(answer) if operation.answer is not None else answer

    call.__name__ = call.__qualname__ = operation.name
    call.__doc__ = f"As Emulator.{operation.name} ({operation.method} {operation.path} on the control plane)."
    return property(call) if operation.attribute else call


for _operation in OPERATIONS:
    if _operation.name not in vars(RemoteEmulator):
        setattr(RemoteEmulator, _operation.name, _generated(_operation))
