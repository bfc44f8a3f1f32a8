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
    ``images`` (id -> repository name), lifecycle ``policies`` (id -> repository id) and their
    ``dry_runs`` (result id -> policy id)."""

    registries: dict[str, str] = field(default_factory=dict)
    repositories: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    repository_ids: dict[str, str] = field(default_factory=dict)  # name -> id
    policies: dict[str, str] = field(default_factory=dict)
    dry_runs: dict[str, str] = field(default_factory=dict)
    cloud_registries: dict[str, str] = field(default_factory=dict)  # Cloud Registry's: id -> folder

    def scope_values(self, kind: str) -> list[str]:
        """Every value a List scope of this kind may name in the world."""
        if kind == "folder":
            return sorted(set(self.registries.values()))
        if kind == "cloud_folder":
            return sorted(set(self.cloud_registries.values()))
        if kind == "registry":
            return sorted(self.registries)
        if kind == "repository_id":
            return sorted(self.repository_ids.values())
        if kind == "image_id":
            return sorted(self.images)
        if kind == "lifecycle_policy":
            return sorted(self.policies)
        if kind == "dry_run_lifecycle_policy_result":
            return sorted(self.dry_runs)
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
    for r, kind in enumerate(("DOCKER", "MAVEN", "NPM", "DOCKER", "PYPI")):
        folder = FOLDER if r % 3 != 2 else OTHER_FOLDER
        registry = emulator.add_registry(folder, name=f"cloud-{r}", kind=kind, type=("LOCAL", "REMOTE")[r % 2])
        world.cloud_registries[registry.id] = folder
    for name in world.repositories:
        repository = emulator.add_repository(world.repositories[name], name.partition("/")[2])
        world.repository_ids[name] = repository.id
        for n, status in enumerate(("DISABLED", "ACTIVE", "DISABLED")):
            policy = emulator.add_lifecycle_policy(
                repository.id, name=f"policy-{n}", status=status, rules=[EVERY_IMAGE_A_DAY_OLD]
            )
            world.policies[policy.id] = repository.id
            for _ in range(3):
                world.dry_runs[emulator.store.dry_run_lifecycle_policy(policy.id).id] = policy.id
    results = [
        {
            "id": f"che{number:017d}", "image_id": image_id, "repository_id": world.repository_ids[name],
            "folder_id": world.registries[world.repositories[name]], "status": ("READY", "ERROR", "READY")[number % 3],
            "scanned_at": f"2026-02-{1 + number % 28:02d}T00:00:00Z",
            "vulnerabilities": [{"severity": SEVERITIES[(number + n) % 6], "package": {"name": f"CVE-{n}"}}
                                for n in range(number % 4)],
        }
        for number, (image_id, name) in enumerate(
            (image_id, name) for image_id, name in world.images.items() for _ in range(3)
        )
    ]  # fmt: skip
    emulator.load_seed({"registries": [], "scan_results": results})
    return world


SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNDEFINED")
# A rule every image of the world falls under, and is old enough for: a dry run finds them all.
EVERY_IMAGE_A_DAY_OLD = {"tag_regexp": ".*", "untagged": True, "expire_period": "86400s"}
