"""The API catalogue: every served method, declared once, with what every consumer needs.

A service module declares its methods (``Service(..., methods_declared={"List": Read(lists="images"), ...})``);
the descriptor pool supplies the rest (request and response types, and whether the method answers
with an operation: the ``yandex.cloud.api.operation`` option). Everything that used to keep its own
table of methods asks the catalogue instead: operation modes (which methods make operations, which
make their change when done), fault rules, call recording, the contract client, snapshot, diff,
comparison and strategies, endpoint discovery, health and reflection. ``Catalogue.find`` is the
one parser of method names (``*``, a service or a method, short or full).

Plain data over the descriptor pool: nothing here serves anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from emulator.api.wire import CLOUD_REGISTRY, POOL, message_class

EVERY_METHOD = "*"

# Packages whose services are named with their package's word (``cloudregistry.RegistryService``):
# Cloud Registry reuses Container Registry's service names, and ``RegistryService`` kept meaning
# Container Registry's, as it did before Cloud Registry was served.
QUALIFIED_PACKAGES = {CLOUD_REGISTRY: "cloudregistry"}


# What a call may act on: the kinds the state layer finds a folder for (Store.folder_of_target).
TARGET_KINDS = frozenset(
    {
        "folder", "registry", "repository", "repository_name", "repository_path", "image", "operation",
        "lifecycle_policy", "dry_run_lifecycle_policy_result", "scan_result", "scan_policy",
        "cloud_registry", "artifact", "cloud_scan_result", "cloud_scan_policy", "cloud_lifecycle_policy",
        "cloud_dry_run", "cloud", "migrated_registry",
    }
)  # fmt: skip


def short_service_name(full: str) -> str:
    """How users name a service, served or not: ``ImageService``, or ``cloudregistry.RegistryService``
    for ``yandex.cloud.cloudregistry.v1.RegistryService`` (a QUALIFIED_PACKAGES package)."""
    package, _, bare = full.rpartition(".")
    qualifier = QUALIFIED_PACKAGES.get(package)
    return f"{qualifier}.{bare}" if qualifier else bare


@dataclass(frozen=True)
class Target:
    """What a call acts on, for its folder check: the request ``field`` naming it and its ``kind``
    (``folder``, ``registry``, ``repository``, ``repository_name``, ``repository_path``, ``image``,
    ``operation``; the state layer finds each one's folder)."""

    field: str
    kind: str

    @classmethod
    def of(cls, on: Target | str | None) -> Target | None:
        """``"registry_id"`` means Target("registry_id", "registry"), and so on for every ``<kind>_id``."""
        if on is None or isinstance(on, Target):
            return on
        return cls(on, on.removesuffix("_id"))


@dataclass(frozen=True)
class Read:
    """A method that changes nothing. ``lists``: for a List of resources, the repeated field of its
    response; with a ``spec`` (a ListSpec) its request is read and keyset-paged by the shared List
    machinery, without one its handler reads it and pages by position. ``gets``: for a Get of one
    resource, the request field naming it."""

    lists: str | None = None
    gets: str | None = None
    spec: Any = field(default=None, compare=False)  # a List's ListSpec (emulator.rpc.services.paged)
    on: Target | str | None = None  # what it acts on; a Get's is its ``gets``, a List's its scope


@dataclass(frozen=True)
class Mutating:
    """A method that answers with an operation. ``deferred``: its change is made when the operation
    is done (so an operation mode can keep it pending, and a fault's operation_error can finish it
    with an error and change nothing); otherwise the change is made when the call comes."""

    deferred: bool = False
    on: Target | str | None = None  # what it acts on (see Target)


@dataclass(frozen=True)
class Changing:
    """A method that changes state without making an operation of its own (OperationService.Cancel)."""

    on: Target | str | None = None  # what it acts on (see Target)


Declaration = Read | Mutating | Changing


@dataclass(frozen=True)
class Method:
    """One served method, as declared and as the descriptors say."""

    service: Service = field(repr=False)
    name: str
    declared: Declaration

    @property
    def short(self) -> str:
        """``ImageService/List``: how users, modes and fault rules name it."""
        return f"{self.service.short}/{self.name}"

    @property
    def full(self) -> str:
        """``yandex.cloud.containerregistry.v1.ImageService/List``: the name on the wire (without its slash)."""
        return f"{self.service.name}/{self.name}"

    @cached_property
    def _descriptor(self):
        return POOL.FindServiceByName(self.service.name).methods_by_name[self.name]

    @property
    def request_type(self) -> str:
        return self._descriptor.input_type.full_name

    @property
    def response_type(self) -> str:
        return self._descriptor.output_type.full_name

    @property
    def read(self) -> bool:
        """Changes nothing: safe to send to any endpoint, and to retry."""
        return isinstance(self.declared, Read)

    @property
    def mutating(self) -> bool:
        """Answers with an operation it makes."""
        return isinstance(self.declared, Mutating)

    @property
    def deferred(self) -> bool:
        return isinstance(self.declared, Mutating) and self.declared.deferred

    @property
    def lists(self) -> str | None:
        return self.declared.lists if isinstance(self.declared, Read) else None

    @property
    def gets(self) -> str | None:
        return self.declared.gets if isinstance(self.declared, Read) else None

    @property
    def target(self) -> Target | None:
        """What the call acts on, whose folder the caller must be allowed: declared with ``on``
        (a Get: its ``gets``). None for a List (its scope is checked) and a public service."""
        declared = self.declared
        return Target.of(declared.on or (declared.gets if isinstance(declared, Read) else None))

    @property
    def spec(self) -> Any:
        """A List's ListSpec: what its request may say (scopes, filter, orders)."""
        return self.declared.spec if isinstance(self.declared, Read) else None

    @property
    def resource(self) -> str | None:
        """What a List or Get returns, in words: ``image``, ``repository``, ``operation``."""
        if self.gets:
            return self.gets.rpartition("_")[0]
        if self.lists:
            name = message_class(self.response_type).DESCRIPTOR.fields_by_name[self.lists].message_type.name
            # DryRunLifecyclePolicyResult: dry_run_...; Cloud Registry's DryRunLifecyclePolicyResponse: the same
            return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().removesuffix("_response")
        return None


@dataclass(frozen=True)
class Service:
    """One served service: its full name, the endpoint id discovery resolves it by, whether it
    needs no token in any auth mode (``public``), and its methods' declarations by name."""

    name: str
    endpoint: str
    methods_declared: dict[str, Declaration]
    public: bool = False

    @property
    def short(self) -> str:
        """``ImageService``, or ``cloudregistry.RegistryService`` in a QUALIFIED_PACKAGES package."""
        return short_service_name(self.name)

    @cached_property
    def methods(self) -> dict[str, Method]:
        return {name: Method(self, name, declared) for name, declared in self.methods_declared.items()}

    def check(self) -> None:
        """ValueError unless the declarations agree with the descriptors: every method exists, and
        a method is Mutating exactly when the API marks it as answering with an operation."""
        try:
            descriptor = POOL.FindServiceByName(self.name)
        except KeyError:
            raise ValueError(f"{self.name}: no such service in the descriptors") from None
        for method in self.methods.values():
            found = descriptor.methods_by_name.get(method.name)
            if found is None:
                raise ValueError(f"{method.full}: no such method in the descriptors")
            if method.mutating != answers_operation(found):
                raise ValueError(f"{method.full}: declared {type(method.declared).__name__}, the descriptors disagree")
            if method.lists and method.lists not in found.output_type.fields_by_name:
                raise ValueError(f"{method.full}: a List names its response's repeated field")
            if method.gets and method.gets not in found.input_type.fields_by_name:
                raise ValueError(f"{method.full}: its request has no field {method.gets!r}")
            target = method.target
            if target is not None and target.field not in found.input_type.fields_by_name:
                raise ValueError(f"{method.full}: its request has no field {target.field!r}")
            if target is not None and target.kind not in TARGET_KINDS:
                raise ValueError(
                    f"{method.full}: acts on a {target.kind!r}, not a kind the state finds a folder for "
                    f"({', '.join(sorted(TARGET_KINDS))}): say Target(field, kind)"
                )
            if not self.public and not method.lists and target is None:
                raise ValueError(f"{method.full}: say what it acts on (on=...), so its caller's folder is checked")


def answers_operation(method_descriptor) -> bool:
    """Whether the descriptors mark a method as making an operation (the ``yandex.cloud.api.operation``
    option; OperationService.Get answers an Operation without making one)."""
    options = message_class("google.protobuf.MethodOptions").FromString(
        method_descriptor.GetOptions().SerializeToString()
    )
    return options.HasExtension(POOL.FindExtensionByName("yandex.cloud.api.operation"))


class Catalogue:
    """The served services and methods, and the one parser of their names."""

    def __init__(self, services: Iterable[Service]):
        self.services: dict[str, Service] = {}
        for service in services:
            service.check()
            self.services[service.name] = service
        self._services_by_short = {service.short: service for service in self.services.values()}
        if len(self._services_by_short) != len(self.services):
            raise ValueError("two served services share a short name")

    def __iter__(self) -> Iterator[Method]:
        for service in self.services.values():
            yield from service.methods.values()

    def methods(
        self, *, read: bool | None = None, mutating: bool | None = None, deferred: bool | None = None
    ) -> tuple[Method, ...]:
        """The served methods: those that read (or not), answer with an operation (or not), whose change
        waits (or not)."""
        return tuple(
            method
            for method in self
            if (read is None or method.read == read)
            and (mutating is None or method.mutating == mutating)
            and (deferred is None or method.deferred == deferred)
        )

    @property
    def lists(self) -> tuple[Method, ...]:
        """Every List, keyset-paged (with a ListSpec) or paged by position."""
        return tuple(method for method in self if method.lists)

    @property
    def keyset_lists(self) -> tuple[Method, ...]:
        """The Lists with a ListSpec: scopes, a name filter, orders and keyset page tokens."""
        return tuple(method for method in self if method.lists and method.spec is not None)

    @property
    def gets(self) -> tuple[Method, ...]:
        return tuple(method for method in self if method.gets)

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(service.endpoint for service in self.services.values()))

    def service(self, name: str) -> Service | None:
        """A service by its full or short name."""
        return self.services.get(name) or self._services_by_short.get(name)

    def find(self, text: object) -> Service | Method | None:
        """The service or method a name means: ``ImageService``, ``ImageService/List`` or their full
        names (a leading slash, as on the wire, is allowed); None for anything else (``*`` included)."""
        if not isinstance(text, str):
            return None
        service_name, slash, method_name = text.lstrip("/").partition("/")
        service = self.service(service_name)
        if service is None or not slash:
            return service
        return service.methods.get(method_name)

    def named(self, text: object, what: str = "method") -> Service | Method | str:
        """The served service or method a name means (as ``find``), or a bare method name some
        service has (``Delete``: every service's Delete); ValueError saying what is wrong with it,
        so a misspelled name is never taken for one that matches nothing."""
        if not isinstance(text, str) or not text.strip("/"):
            raise ValueError(f"{what}: must be a method or a service, got {text!r}")
        found = self.find(text)
        if found is not None:
            return found
        service_name, slash, method_name = text.lstrip("/").partition("/")
        if not slash and any(text in service.methods for service in self.services.values()):
            return text  # a bare method name
        service = self.service(service_name)
        served = ", ".join(sorted(known.short for known in self.services.values()))
        if service is None and not slash:
            methods = ", ".join(sorted({name for known in self.services.values() for name in known.methods}))
            raise ValueError(
                f"{what}: {text!r} is neither a served service nor a method of one (services: {served}; methods: {methods})"
            )
        if service is None:
            raise ValueError(f"{what}: {text!r} names no served service (served: {served})")
        raise ValueError(
            f"{what}: {service.name} has no method {method_name!r} (it has {', '.join(sorted(service.methods))})"
        )

    def methods_named(self, text: object) -> list[Method]:
        """Every served method a name covers (a method, a service's methods, or a bare method name's
        in every service); ValueError as ``named``."""
        found = self.named(text)
        if isinstance(found, Method):
            return [found]
        if isinstance(found, Service):
            return list(found.methods.values())
        return [method for method in self if method.name == found]

    def method(self, text: object) -> Method | None:
        found = self.find(text)
        return found if isinstance(found, Method) else None

    def answers_to(self, full: str) -> frozenset[str]:
        """Every name a reader may give to mean the method ``full`` (or its service): the full and short
        names of both, and the bare method name (``Delete``: every service's Delete)."""
        method = self.method(full)
        if method is None:
            return frozenset({full})
        service = method.service
        return frozenset({method.full, method.short, method.name, service.name, service.short})
