"""Every string a seed gives must be one the wire can carry (D7): a lone surrogate, which JSON's
``"\\ud800"`` produces, is refused at load in any field, naming the field, and nothing of
the seed stays. Otherwise it would load and later make a call answer INTERNAL."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import pytest

from emulator import Blob, Emulator, SeedError
from emulator.state.seed import export_state
from tests.support.world import digest

FOLDER = "b1gstringsfolder0001"
SURROGATE = "\ud800"



SEED = {
    "registries": [
        {
            "id": "crpstringsregistry01",
            "folder_id": FOLDER,
            "name": "main",
            "created_at": "2026-01-01T00:00:00Z",
            "labels": {"env": "ci"},
            "images": [
                {
                    "repository": "team/web",
                    "id": "crpstringsimage00001",
                    "digest": digest(1),
                    "tags": ["latest", "v1"],
                    "created_at": "2026-01-02T00:00:00Z",
                    "config": {"id": "config1", "digest": digest(2), "size": 5, "urls": ["https://m.example/c"]},
                    "layers": [
                        {"id": "layer1", "digest": digest(3), "size": 7},
                        {"id": "layer2", "digest": digest(4), "size": 9, "urls": ["https://m.example/l2"]},
                    ],
                }
            ],
        }
    ],
    "operations": [
        {
            "id": "crpstringsoperation1",
            "description": "Delete image",
            "created_at": "2026-01-03T00:00:00Z",
            "modified_at": "2026-01-03T00:00:01Z",
            "created_by": "ajestrings",
            "done": True,
            "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
            "metadata": {"image_id": "crpgone"},
            "response_type": "google.protobuf.Empty",
            "error": {"code": "NOT_FOUND", "message": "gone"},
            "folder_id": FOLDER,
            "idempotency_key": "ajestrings/Delete/k1",
        }
    ],
}

R, I, O = ("registries", 0), ("registries", 0, "images", 0), ("operations", 0)
# (where the string is, the path the error must name)
VALUES = [
    ((*R, "id"), "registries[0].id"),
    ((*R, "folder_id"), "registries[0].folder_id"),
    ((*R, "name"), "registries[0].name"),
    ((*R, "created_at"), "registries[0].created_at"),
    ((*R, "labels", "env"), "registries[0].labels.env"),
    ((*I, "repository"), "registries[0].images[0].repository"),
    ((*I, "id"), "registries[0].images[0].id"),
    ((*I, "digest"), "registries[0].images[0].digest"),
    ((*I, "created_at"), "registries[0].images[0].created_at"),
    ((*I, "tags", 1), "registries[0].images[0].tags[1]"),
    ((*I, "config", "id"), "registries[0].images[0].config.id"),
    ((*I, "config", "digest"), "registries[0].images[0].config.digest"),
    ((*I, "config", "urls", 0), "registries[0].images[0].config.urls[0]"),
    ((*I, "layers", 1, "id"), "registries[0].images[0].layers[1].id"),
    ((*I, "layers", 1, "urls", 0), "registries[0].images[0].layers[1].urls[0]"),
    ((*O, "id"), "operations[0].id"),
    ((*O, "description"), "operations[0].description"),
    ((*O, "created_at"), "operations[0].created_at"),
    ((*O, "modified_at"), "operations[0].modified_at"),
    ((*O, "created_by"), "operations[0].created_by"),
    ((*O, "metadata_type"), "operations[0].metadata_type"),
    ((*O, "metadata", "image_id"), "operations[0].metadata.image_id"),
    ((*O, "response_type"), "operations[0].response_type"),
    ((*O, "error", "code"), "operations[0].error.code"),
    ((*O, "error", "message"), "operations[0].error.message"),
    ((*O, "folder_id"), "operations[0].folder_id"),
    ((*O, "idempotency_key"), "operations[0].idempotency_key"),
]
# (the object holding the key, the key the surrogate is added to, the path the error must name)
KEYS = [
    (R, "labels", "registries[0].labels"),
    (O, "metadata", "operations[0].metadata"),
    (I, None, "registries[0].images[0]"),  # an unknown field of the entry itself
    ((), None, "seed"),
]


def _at(seed: dict, path: tuple):
    target = seed
    for step in path:
        target = target[step]
    return target


def _assert_refused_and_nothing_loaded(seed: dict, where: str) -> None:
    emulator = Emulator()
    emulator.add_registry(FOLDER, id="crpalreadythere00001")
    before = export_state(emulator.store)
    with pytest.raises(SeedError) as caught:
        emulator.load_seed(seed)
    _assert_names(str(caught.value), where)
    assert export_state(emulator.store) == before


def _assert_names(message: str, where: str) -> None:
    """The message starts with the path and says why. Failures show it with ascii(): a report
    holding a surrogate could not be sent back by pytest-xdist."""
    names = re.match(re.escape(where) + r"(?![\[.\w])", message) is not None
    assert names and "surrogate" in message, ascii(message)
    try:
        message.encode("utf-8")  # printable, sendable
    except UnicodeEncodeError:
        pytest.fail(f"the message holds a surrogate itself: {message!a}")


@pytest.mark.parametrize("path, where", VALUES, ids=[where for _, where in VALUES])
@pytest.mark.parametrize(
    "text",
    [SURROGATE, f"ok{SURROGATE}", "\udfff", f"é{SURROGATE}x"],
    ids=["lone", "after-ascii", "low", "after-non-ascii"],
)
def test_a_surrogate_in_any_value_is_refused_naming_the_field(path, where, text):
    seed = copy.deepcopy(SEED)
    Emulator().load_seed(copy.deepcopy(seed))  # the seed itself is good
    _at(seed, path[:-1])[path[-1]] = text
    _assert_refused_and_nothing_loaded(seed, where)


@pytest.mark.parametrize("path, key, where", KEYS, ids=[where for _, _, where in KEYS])
def test_a_surrogate_in_any_key_is_refused_naming_the_object(path, key, where):
    seed = copy.deepcopy(SEED)
    holder = _at(seed, path)
    (holder[key] if key else holder)[f"k{SURROGATE}"] = "v"
    _assert_refused_and_nothing_loaded(seed, where)


def test_json_escapes_make_surrogates_and_a_seed_file_with_one_is_refused(tmp_path):
    text = json.dumps(SEED).replace('"Delete image"', '"Delete \\ud800 image"')
    assert "\\ud800" in text and SURROGATE in json.loads(text)["operations"][0]["description"]
    path = tmp_path / "seed.json"
    path.write_text(text, encoding="ascii")
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--seed", str(path)],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "operations[0].description:" in result.stderr, result.stderr


PYTHON_API = [
    ("add_registry", {"name": SURROGATE}, "name"),
    ("add_registry", {"labels": {"env": SURROGATE}}, "labels.env"),
    ("add_registry", {"labels": {SURROGATE: "x"}}, "labels"),
    ("add_image", {"tags": ["v1", SURROGATE]}, "tags[1]"),
    ("add_image", {"config": Blob(id=SURROGATE, digest=digest(5), size=1)}, "config.id"),
    ("add_image", {"config": {"digest": digest(5), "urls": [SURROGATE]}}, "config.urls[0]"),
    (
        "add_image",
        {"layers": [Blob(id="l", digest=digest(6), size=1, urls=("https://x", SURROGATE))]},
        "layers[0].urls[1]",
    ),
]


@pytest.mark.parametrize("method, fields, where", PYTHON_API, ids=[f"{m}-{w}" for m, _, w in PYTHON_API])
def test_the_python_api_refuses_surrogates_too(method, fields, where):
    emulator = Emulator()
    registry = emulator.add_registry(FOLDER)
    before = export_state(emulator.store)
    with pytest.raises(SeedError) as caught:
        if method == "add_registry":
            emulator.add_registry(FOLDER, **fields)
        else:
            emulator.add_image(registry.id, "app", **fields)
    _assert_names(str(caught.value), where)
    assert export_state(emulator.store) == before


def test_label_keys_must_be_strings():
    with pytest.raises(SeedError, match=re.escape("labels")):
        Emulator().add_registry(FOLDER, labels={1: "x"})
