"""A world of registries, repositories and images, built through the Emulator's Python API, with
what a List test needs to know of it: every scope's value and what each scope holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator import Emulator

FOLDER = "b1g0000000000000test"
OTHER_FOLDER = "b1g000000000000other"


def digest(number: int) -> str:
    """A well-formed sha256 digest, distinct for each number (its hex spelled out)."""
    return f"sha256:{number:064x}"


@dataclass
class World:
    """What was built: ``registries`` (id -> folder), ``repositories`` (name -> registry id),
    ``images`` (id -> repository name), and the created_at of each image."""

    registries: dict[str, str] = field(default_factory=dict)
    repositories: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)

    def scope_values(self, kind: str) -> list[str]:
        """Every value a List scope of this kind may name in the world."""
        if kind == "folder":
            return sorted(set(self.registries.values()))
        if kind == "registry":
            return sorted(self.registries)
        return sorted(self.repositories)


def build_world(emulator: Emulator, *, registries: int = 3, repositories: int = 3, images: int = 4) -> World:
    """Registries in two folders (named, so name filters have values), each with repositories of
    nested paths, each with images whose created_at ties in pairs (so orders need their tie-break)."""
    world = World()
    number = 0
    for r in range(registries):
        folder = FOLDER if r % 3 != 2 else OTHER_FOLDER
        registry = emulator.add_registry(folder, name=f"registry-{r}")
        world.registries[registry.id] = folder
        for p in range(repositories):
            path = ["app", "team/web", "team/web/api"][p % 3] + (f"{p}" if p >= 3 else "")
            for i in range(images):
                number += 1
                image = emulator.add_image(
                    registry.id,
                    path,
                    digest=digest(number),
                    tags=[f"v{i}"] if i % 2 else [],
                    created_at=f"2026-01-{1 + (number // 2) % 28:02d}T00:00:00Z",
                )
                world.images[image.id] = image.name
                world.repositories[image.name] = registry.id
    return world
