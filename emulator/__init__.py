"""In-memory emulator of Yandex Cloud Container Registry's gRPC API (images, registries, repositories)."""

from emulator.records import Blob, Image, Operation, Registry, Repository
from emulator.seed import SeedError
from emulator.server import Emulator

__all__ = ["Blob", "Emulator", "Image", "Operation", "Registry", "Repository", "SeedError"]
