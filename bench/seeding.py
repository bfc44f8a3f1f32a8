"""Seeding speed and memory: load N images from a seed file, and resident memory per
stored image. Each measurement runs in a fresh process, so memory readings are its own."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write_seed(path: Path, images: int, explicit_layers: bool) -> None:
    """One registry, 100 repositories; each image 2 tags, and 3 layers if ``explicit_layers``
    (otherwise the emulator derives them)."""
    entries = []
    for n in range(images):
        entry = {"repository": f"team/app{n % 100}", "tags": [f"v{n}", f"build-{n}"]}
        if explicit_layers:
            entry["config"] = {"digest": _digest(f"c{n}"), "size": 1500}
            entry["layers"] = [{"digest": _digest(f"l{n}.{k}"), "size": 1_000_000 + k} for k in range(3)]
        entries.append(entry)
    path.write_text(json.dumps({"registries": [{"folder_id": "b1gbench", "images": entries}]}))


def _child(path: str) -> None:
    from emulator import Emulator

    emulator = Emulator()
    before = _rss_bytes()
    started = time.perf_counter()
    emulator.load_seed(path)
    elapsed = time.perf_counter() - started
    images = emulator.counts()["images"]
    print(json.dumps({"images": images, "seconds": elapsed, "bytes_per_image": (_rss_bytes() - before) / images}))


def _memory_child(images: int, explicit_layers: bool) -> None:
    """Resident memory per image added through the Python API (no seed file to parse)."""
    from emulator import Emulator

    emulator = Emulator()
    registry = emulator.add_registry("b1gbench")
    before = _rss_bytes()
    with emulator.bulk():
        for n in range(images):
            fields = {}
            if explicit_layers:  # the blobs' ids are generated, as for blobs a seed gives without them
                fields["config"] = {"digest": _digest(f"c{n}"), "size": 1500}
                fields["layers"] = [{"digest": _digest(f"l{n}.{k}"), "size": 10**6 + k} for k in range(3)]
            emulator.add_image(registry.id, f"team/app{n % 100}", tags=[f"v{n}", f"build-{n}"], **fields)
    print(json.dumps({"bytes_per_image": (_rss_bytes() - before) / images}))


def memory(images: int, explicit_layers: bool) -> float:
    command = [sys.executable, "-m", "bench.seeding", "--memory", str(images), str(int(explicit_layers))]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)["bytes_per_image"]


def measure(images: int, explicit_layers: bool) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.json"
        write_seed(path, images, explicit_layers)
        output = subprocess.run(
            [sys.executable, "-m", "bench.seeding", "--child", str(path)], capture_output=True, text=True, check=True
        ).stdout
    return json.loads(output)


def run(images: int = 1_000_000, memory_images: int = 200_000) -> dict:
    """Seconds to load ``images`` images from a seed file (2 tags each; layers derived, and
    given), and resident memory per image stored (3 layers, 2 tags; derived and given)."""
    return {
        "images": images,
        "load_seconds": measure(images, explicit_layers=False)["seconds"],
        "load_seconds_given_layers": measure(images, explicit_layers=True)["seconds"],
        "bytes_per_image_derived_layers": memory(memory_images, explicit_layers=False),
        "bytes_per_image_given_layers": memory(memory_images, explicit_layers=True),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    elif sys.argv[1:2] == ["--memory"]:
        _memory_child(int(sys.argv[2]), sys.argv[3] == "1")
    else:
        print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
