"""In-memory emulator of Yandex Cloud Container Registry's gRPC ImageService."""

from emulator.seed import SeedError
from emulator.server import Emulator
from emulator.store import Blob, Image, Operation, Registry

__all__ = ["Blob", "Emulator", "Image", "Operation", "Registry", "SeedError"]
