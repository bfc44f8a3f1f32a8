"""In-memory emulator of Yandex Cloud Container Registry's gRPC API (images, registries, repositories)."""

import emulator._tool_env  # noqa: F401  (first: it must run before grpc is imported)
from emulator.records import Blob, Image, Operation, Registry, Repository
from emulator.seed import SeedError
from emulator.server import Emulator

__all__ = ["Blob", "Emulator", "Image", "Operation", "Registry", "Repository", "SeedError"]
