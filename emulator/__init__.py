"""In-memory emulator of Yandex Cloud Container Registry's gRPC API (images, registries, repositories)."""

import emulator._tool_env  # noqa: F401  (first: it must run before grpc is imported)
from emulator.emulator import Emulator
from emulator.state.codecs import SeedError
from emulator.state.records import Blob, Image, Operation, Registry, Repository

__all__ = ["Blob", "Emulator", "Image", "Operation", "Registry", "Repository", "SeedError"]
