"""In-memory emulator of Yandex Cloud Container Registry's gRPC ImageService."""

from emulator.records import Blob, Image, Operation, Registry
from emulator.seed import SeedError
from emulator.server import Emulator

__all__ = ["Blob", "Emulator", "Image", "Operation", "Registry", "SeedError"]
