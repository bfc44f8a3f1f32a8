"""Every load is all or nothing (issue #20): a valid seed, drawn, with one failure planted at a
random entry (a bad value, an unknown field, a list naming a missing digest, a duplicate id), loads
nothing of itself on any surface (Python, the control plane, ``--seed``) and leaves what was there
before as it was; the error names the entry."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Emulator, SeedError
from emulator.contract.strategies import seeds
from emulator.control.process import EmulatorProcess

BEFORE = {  # what the emulator holds before each load: it must stay exactly so
    "registries": [
        {
            "id": "crpalreadythere00001",
            "folder_id": "b1galreadythere00001",
            "images": [{"repository": "kept", "id": "crpalreadyimage00001", "digest": f"sha256:{1:064x}"}],
        }
    ]
}

# (where in an entry, what goes wrong): each makes the entry one the emulator refuses
IMAGE_FAILURES = {
    "digest": ("digest", "sha1:not-a-digest"),
    "tag": ("tags", ["not a tag!"]),
    "repository": ("repository", "Not/A/Path"),
    "unknown field": ("colour", "red"),
    "missing manifest": ("manifests", [f"sha256:{999:064x}"]),
    "duplicate id": ("id", "crpalreadyimage00001"),
    "created_at": ("created_at", "yesterday"),
}
REGISTRY_FAILURES = {
    "folder": ("folder_id", "Folder!"),
    "duplicate id": ("id", "crpalreadythere00001"),
    "status": ("status", "SLEEPING"),
    "unknown field": ("colour", "red"),
}


@st.composite
def planted(draw, duplicates: bool = True) -> tuple[dict, str]:
    """(a seed with one failure planted, the path of the entry that holds it). ``duplicates``: the
    failures that are ids BEFORE holds too (only where BEFORE is loaded first)."""
    seed = copy.deepcopy(draw(seeds(min_registries=1, max_registries=3, max_images=12)))
    listed = False
    if draw(st.booleans()):  # an image list first, so that taking the seed back meets one (P5)
        for registry in seed["registries"]:
            by_path: dict[str, list[dict]] = {}
            for image in registry.get("images", []):
                if image.get("digest"):
                    by_path.setdefault(image["repository"], []).append(image)
            pairs = [group[:2] for group in by_path.values() if len(group) >= 2]
            if pairs:
                parent, child = pairs[0]
                parent["manifests"] = [child["digest"]]
                listed = True
                break
    entries = [
        (f"registries[{r}].images[{i}]", image)
        for r, registry in enumerate(seed["registries"])
        for i, image in enumerate(registry.get("images", []))
    ]
    if listed and draw(st.booleans()):  # the failure comes when the lists are set, after the first one
        where, entry = entries[-1]
        entry["manifests"] = IMAGE_FAILURES["missing manifest"][1]
        return seed, where
    if entries and draw(st.booleans()):
        where, entry = draw(st.sampled_from(entries))
        field, value = IMAGE_FAILURES[draw(st.sampled_from(_kinds(IMAGE_FAILURES, duplicates)))]
    else:
        r = draw(st.integers(0, len(seed["registries"]) - 1))
        where, entry = f"registries[{r}]", seed["registries"][r]
        field, value = REGISTRY_FAILURES[draw(st.sampled_from(_kinds(REGISTRY_FAILURES, duplicates)))]
    entry[field] = value
    return seed, where


def _kinds(failures: dict, duplicates: bool) -> list[str]:
    return sorted(kind for kind in failures if duplicates or kind != "duplicate id")


def _loaded_before(emulator) -> dict:
    emulator.load_seed(BEFORE)
    return emulator.state()


@settings(max_examples=60)
@given(case=planted())
def test_python_loads_nothing_of_a_seed_that_fails_anywhere(case):
    seed, where = case
    with Emulator() as emulator:
        before = _loaded_before(emulator)
        with pytest.raises(SeedError) as caught:
            emulator.load_seed(seed)
        assert str(caught.value).startswith(where), (where, str(caught.value))
        assert emulator.state() == before


@pytest.fixture(scope="module")
def process():
    with EmulatorProcess() as running:
        yield running


@settings(max_examples=15)
@given(case=planted())
def test_the_control_plane_loads_nothing_of_it(process, case):
    seed, where = case
    process.reset()
    before = _loaded_before(process)
    with pytest.raises(ValueError) as caught:  # its 400
        process.load_seed(seed)
    assert str(caught.value).startswith(where), (where, str(caught.value))
    assert process.state() == before


@settings(max_examples=3, deadline=None)
@given(case=planted(duplicates=False))
def test_the_command_line_refuses_it_in_one_line(case, tmp_path_factory):
    seed, where = case
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--seed", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and where in done.stderr and "Traceback" not in done.stderr


# ---- #24: one word, one meaning: a seed is data -------------------------------------------------


def test_emulator_seed_is_the_data_to_load_as_on_the_command_line(tmp_path):
    """Found by a new user: Emulator(seed="seed.json") started empty (seed was the random seed there,
    a data file on the command line). Now it loads the file or dict, as --seed and load_seed do."""
    import json

    from emulator import Emulator

    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"registries": [{"folder_id": "b1gseeded0000000000", "name": "from-file"}]}))
    for data in (path, str(path), json.loads(path.read_text())):
        with Emulator(seed=data) as emulator:
            assert [r.name for r in emulator.registries.values()] == ["from-file"]
    with pytest.raises(ValueError, match=r"seed: .*random_seed=7"):
        Emulator(seed=7)
    with pytest.raises(ValueError, match=r"registries\[0\]\.folder_id"):
        Emulator(seed={"registries": [{"name": "no-folder"}]})


def test_random_seed_makes_generated_ids_reproducible():
    from emulator import Emulator

    ids = []
    for _ in range(2):
        with Emulator(random_seed=7) as emulator:
            registry = emulator.add_registry("b1gseeded0000000000")
            ids.append((registry.id, emulator.add_image(registry.id, "app").digest))
    assert ids[0] == ids[1]
