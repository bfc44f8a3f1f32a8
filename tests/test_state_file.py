"""The state file never loses or corrupts data: every accepted value survives a round trip,
an unwritable path is refused at start, a failed final write keeps the state elsewhere, and
a process killed mid-write leaves the previous file whole (its temporary file is cleaned up
by the next start). The process tests run the real ``python -m emulator``."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from yandex.cloud.containerregistry.v1 import image_service_pb2

from emulator import Emulator, SeedError
from emulator.api.values import INT64_MAX, TIMESTAMP_MAX_NS, TIMESTAMP_MIN_NS
from emulator.contract import strategies
from emulator.state.codecs import format_timestamp, parse_timestamp
from emulator.state.images import TAG_PATTERN
from emulator.state.records import Blob
from emulator.state.repositories import REPOSITORY_PATH
from emulator.state.seed import export_state
from emulator.state.state_file import read_seed_file, write_state_file
from tests import test_standalone as standalone
from tests.support.world import digest
from tests.test_standalone import EXIT_TIMEOUT, Client, write_seed

launch, connect = standalone.launch, standalone.connect  # its fixtures: real processes, real channels

FOLDER = "b1gstatefolder000001"
DELETE_METADATA = "yandex.cloud.containerregistry.v1.DeleteImageMetadata"
STATUS_CODES = ["CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "NOT_FOUND", "INTERNAL", "UNAUTHENTICATED"]
EPOCH = datetime(1970, 1, 1)



# ---- timestamps (D3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00Z",
        "0009-02-03T04:05:06.000000007Z",
        "0999-12-31T23:59:59.999999999Z",
        "1000-01-01T00:00:00Z",
        "1969-12-31T23:59:59.5Z",
        "9999-12-31T23:59:59.999999999Z",
    ],
)
def test_timestamps_are_written_with_a_four_digit_year_and_read_back(text):
    ns = parse_timestamp(text, "created_at")
    assert format_timestamp(ns) == text
    assert parse_timestamp(format_timestamp(ns), "created_at") == ns


def test_an_image_from_before_year_1000_survives_a_state_file(tmp_path):
    emulator = Emulator()
    registry = emulator.add_registry(FOLDER, created_at="0999-01-01T00:00:00Z")
    emulator.add_image(registry.id, "app", created_at="0005-06-07T08:09:10.123456789Z")
    path = tmp_path / "state.json"
    write_state_file(path, emulator.store)
    again = Emulator()
    again.load_seed(path)
    assert again.registries == emulator.registries and again.images == emulator.images


# ---- every accepted value survives export and load (hypothesis) ---------------------------

texts = st.text(max_size=12)
nanoseconds = st.integers(TIMESTAMP_MIN_NS, TIMESTAMP_MAX_NS) | st.sampled_from(
    [TIMESTAMP_MIN_NS, TIMESTAMP_MAX_NS, 0, -1, parse_timestamp("0999-12-31T23:59:59.999999999Z", "t")]
)
sizes = st.integers(0, INT64_MAX)


@st.composite
def rfc3339(draw, ns: int) -> str:
    """``ns`` as RFC 3339 text, written independently of format_timestamp: any offset, any
    fraction length that keeps it exact, Z or z."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    offset = draw(st.integers(-23 * 60 - 59, 23 * 60 + 59) | st.just(0))
    try:
        local = EPOCH + timedelta(seconds=seconds, minutes=offset)
    except OverflowError:
        local = None
    assume(local is not None and 1 <= local.year <= 9999)
    digits = len(f"{nanos:09d}".rstrip("0"))
    fraction = f".{nanos:09d}"[: 1 + draw(st.integers(max(digits, 1), 9))] if nanos or draw(st.booleans()) else ""
    if offset == 0 and draw(st.booleans()):
        zone = draw(st.sampled_from(["Z", "z"]))
    else:
        zone = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{fraction}{zone}"


@st.composite
def moments(draw) -> tuple[dict, int | None]:
    """(keyword arguments giving a creation time, the nanoseconds they mean), or nothing."""
    ns = draw(nanoseconds)
    form = draw(st.sampled_from(["none", "ns", "text", "datetime"]))
    if form == "none":
        return {}, None
    if form == "ns":
        return {"created_at_ns": ns}, ns
    if form == "text":
        return {"created_at": draw(rfc3339(ns))}, ns
    moment = draw(st.datetimes(timezones=st.none() | st.timezones() | st.just(timezone.utc)))
    try:
        ns = parse_timestamp(moment, "created_at")
    except ValueError:
        assume(False)
    return {"created_at": moment}, ns


def blobs():
    fields = st.fixed_dictionaries(
        {},
        optional={
            "id": texts,
            "digest": st.binary(min_size=32, max_size=32).map(lambda raw: "sha256:" + raw.hex()),
            "size": sizes,
            "urls": st.lists(texts, max_size=2),
        },
    )
    as_record = st.builds(
        Blob,
        id=texts,
        digest=st.binary(min_size=32, max_size=32).map(lambda raw: "sha256:" + raw.hex()),
        size=sizes,
        urls=st.lists(texts, max_size=2).map(tuple),
    )
    return fields | as_record


repositories = st.sampled_from(["app", "team/web", "a.b-c_d/e-f"]) | st.from_regex(REPOSITORY_PATH, fullmatch=True).filter(
    lambda path: len(path) <= 150  # <registry_id>/<path> is at most 245 characters; a seeded id, 50
)
images = st.fixed_dictionaries(
    {"repository": repositories, "moment": moments()},
    optional={
        "tags": st.lists(st.from_regex(TAG_PATTERN, fullmatch=True), max_size=3),
        "digest": st.binary(min_size=32, max_size=32).map(lambda raw: "sha256:" + raw.hex()),
        "compressed_size": sizes,
        "config": blobs(),
        "layers": st.lists(blobs(), max_size=3),
    },
)
registries = st.fixed_dictionaries(
    {
        "folder_id": st.from_regex(r"[a-z0-9]{1,50}", fullmatch=True),
        "moment": moments(),
        "images": st.lists(images, max_size=4),
    },
    optional={
        "name": texts.filter(lambda text: len(text) <= 63),
        "labels": st.dictionaries(
            texts.filter(lambda text: 1 <= len(text) <= 63), texts.filter(lambda text: len(text) <= 63), max_size=3
        ),
    },  # the sizes CreateRegistryRequest allows
)


@st.composite
def operations(draw) -> dict:
    created, modified = draw(nanoseconds), draw(nanoseconds)
    entry = {
        "id": draw(texts),
        "metadata_type": DELETE_METADATA,
        "metadata": draw(st.fixed_dictionaries({}, optional={"image_id": texts})),
        "created_at": draw(rfc3339(created)),
        "modified_at": draw(rfc3339(modified)),
    }
    optional = {
        "description": texts,
        "created_by": texts,
        "done": st.booleans(),
        "response_type": st.sampled_from(["google.protobuf.Empty", None]),
        "error": st.fixed_dictionaries({"code": st.sampled_from(STATUS_CODES), "message": texts}),
        "folder_id": texts,
        "idempotency_key": texts,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            entry[key] = draw(strategy)
    return entry


def records(emulator: Emulator, given: bool) -> tuple:
    """Everything stored; with ``given``, also which image fields were given rather than derived
    (a complete export gives them all)."""
    images = {
        image_id: (image, image.registry_id, image.given() if given else None)
        for image_id, image in emulator.images.items()
    }
    return emulator.registries, images, emulator.operations


@settings(max_examples=150)
@given(
    registries=st.lists(registries, max_size=3),
    operations=st.lists(operations(), max_size=4, unique_by=lambda entry: entry["id"]),
    complete=st.booleans(),
    seeded=strategies.seeds(max_registries=2, max_images=6),  # the public strategy's seeds survive too
)
def test_every_accepted_value_survives_export_and_load(registries, operations, complete, seeded):
    emulator = Emulator()
    emulator.load_seed(seeded)
    for entry in registries:
        arguments, ns = entry["moment"]
        fields = {key: entry[key] for key in ("name", "labels") if key in entry}
        registry = emulator.add_registry(entry["folder_id"], **fields, **arguments)
        assert ns is None or registry.created_at_ns == ns
        for image_entry in entry["images"]:
            arguments, ns = image_entry["moment"]
            fields = {key: value for key, value in image_entry.items() if key not in ("repository", "moment")}
            try:
                image = emulator.add_image(registry.id, image_entry["repository"], **fields, **arguments)
            except ValueError as error:  # the refusals the strategy can provoke
                assert "already has an image with digest" in str(error) or "sizes sum beyond 2^63-1" in str(error)
                continue
            assert ns is None or image.created_at_ns == ns
            derived = sum(layer.size for layer in image.layers) + image.config.size
            assert image.compressed_size == fields.get("compressed_size", derived)
    emulator.load_seed({"registries": [], "operations": operations})
    loaded = {operation.id: operation for operation in emulator.operations.values()}
    for entry in operations:
        operation = loaded[entry["id"]]
        assert operation.created_at_ns == parse_timestamp(entry["created_at"], "created_at")
        assert operation.idempotency_key == entry.get("idempotency_key")

    state = export_state(emulator.store, complete=complete)
    text = json.dumps(state)  # what the file holds
    again = Emulator()
    again.load_seed(json.loads(text))
    assert records(again, given=not complete) == records(emulator, given=not complete)
    assert export_state(again.store) == export_state(emulator.store)
    if not complete:  # (a complete export makes every field given)
        assert export_state(again.store, complete=False) == export_state(emulator.store, complete=False)


def test_layers_whose_sizes_overflow_int64_need_a_given_compressed_size():
    """compressed_size is the layers' sum unless given: a sum beyond int64 could be neither
    sent nor loaded again, so it is refused at add, naming layers."""
    emulator = Emulator()
    registry = emulator.add_registry(FOLDER)
    layers = [{"digest": digest(1), "size": INT64_MAX}, {"digest": digest(2), "size": 1}]
    with pytest.raises(SeedError, match=re.escape("layers: sizes sum beyond 2^63-1")):
        emulator.add_image(registry.id, "app", layers=layers)
    image = emulator.add_image(registry.id, "app", layers=layers, compressed_size=5)
    again = Emulator()
    again.load_seed(export_state(emulator.store))
    assert again.images[image.id] == image and again.images[image.id].compressed_size == 5


# ---- idempotency keys are kept -------------------------------------------------------------


def test_an_idempotency_key_is_written_and_read_back(tmp_path):
    emulator = Emulator()
    key = "ajeemulator000000000/Delete/retry-1"
    emulator.load_seed(
        {
            "registries": [],
            "operations": [
                {"id": "op1", "metadata_type": DELETE_METADATA, "metadata": {"image_id": "x"}, "idempotency_key": key},
                {"id": "op2", "metadata_type": DELETE_METADATA, "metadata": {"image_id": "y"}},
            ],
        }
    )
    path = tmp_path / "state.json"
    write_state_file(path, emulator.store)
    written = {entry["id"]: entry for entry in read_seed_file(path)["operations"]}
    assert written["op1"]["idempotency_key"] == key and "idempotency_key" not in written["op2"]
    again = Emulator()
    again.load_seed(path)
    assert again.operations["op1"].idempotency_key == key and again.operations["op2"].idempotency_key is None


def test_an_idempotency_key_must_be_a_string():
    entry = {"id": "op1", "metadata_type": DELETE_METADATA, "idempotency_key": 5}
    with pytest.raises(SeedError, match=re.escape("operations[0].idempotency_key")):
        Emulator().load_seed({"registries": [], "operations": [entry]})


# ---- what is written --------------------------------------------------------------------------


def test_the_state_file_holds_given_fields_and_get_state_everything(tmp_path):
    """Derived blobs are not written (they are derived again, identically, on load); the
    default export (GET /state, RemoteEmulator) still carries every field."""
    emulator = Emulator()
    registry = emulator.add_registry(FOLDER)
    derived = emulator.add_image(registry.id, "app")
    given_blobs = emulator.add_image(
        registry.id, "app", config={"digest": digest(1), "size": 5}, layers=[{"digest": digest(2), "size": 7}]
    )
    path = tmp_path / "state.json"
    write_state_file(path, emulator.store)
    written = {image["id"]: image for image in read_seed_file(path)["registries"][0]["images"]}
    assert set(written[derived.id]) == {"repository", "id", "digest", "tags", "created_at"}
    assert written[given_blobs.id]["config"]["digest"] == digest(1)
    assert [layer["digest"] for layer in written[given_blobs.id]["layers"]] == [digest(2)]
    assert "compressed_size" not in written[given_blobs.id]
    complete = {image["id"]: image for image in export_state(emulator.store)["registries"][0]["images"]}
    for image in (derived, given_blobs):
        assert complete[image.id]["compressed_size"] == image.compressed_size
        assert complete[image.id]["config"]["digest"] == image.config.digest
        assert [layer["digest"] for layer in complete[image.id]["layers"]] == [layer.digest for layer in image.layers]
    again = Emulator()
    again.load_seed(path)
    assert again.images == emulator.images
    assert again.images[derived.id].given() == {}


# ---- the process: start checks ------------------------------------------------------------

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
# Run as a fresh process in front of the emulator: give up root's right to write where file
# modes forbid it, then exec, so a read-only directory is read-only even when the tests run as
# root. (Not a preexec_fn: forking a threaded test process and calling into libc before exec
# can deadlock.)
WITHOUT_DAC_OVERRIDE = f"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl({PR_CAPBSET_DROP}, {CAP_DAC_OVERRIDE}, 0, 0, 0) != 0:
    sys.exit("prctl refused: errno " + str(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
"""


def run_to_exit(*args: str, cwd: Path, as_ordinary_user: bool = False) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "emulator", "--port", "0", *args]
    if as_ordinary_user and os.geteuid() == 0:
        argv = [sys.executable, "-c", WITHOUT_DAC_OVERRIDE, *argv]
    try:
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=EXIT_TIMEOUT, cwd=cwd,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{argv} did not exit within {EXIT_TIMEOUT}s (it served?); stdout: {error.stdout!r}")
    if "prctl refused" in result.stderr:
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE for the emulator: {result.stderr.strip()}")
    return result


def _assert_refused(result: subprocess.CompletedProcess, path: Path) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert str(path) in result.stderr, result.stderr
    assert "--state-file" in result.stderr, result.stderr


def test_a_state_file_in_a_missing_directory_is_refused_at_start(tmp_path):
    path = tmp_path / "no-such-directory" / "state.json"
    _assert_refused(run_to_exit("--state-file", str(path), cwd=tmp_path), path)
    assert not path.parent.exists()


def test_a_state_file_under_a_regular_file_is_refused_at_start(tmp_path):
    """A path through a regular file cannot be written by anyone, root included."""
    (tmp_path / "file").write_text("not a directory")
    path = tmp_path / "file" / "state.json"
    _assert_refused(run_to_exit("--state-file", str(path), cwd=tmp_path), path)


def test_a_state_file_that_is_a_directory_is_refused_at_start(tmp_path):
    path = tmp_path / "state.json"
    path.mkdir()
    _assert_refused(run_to_exit("--state-file", str(path), cwd=tmp_path), path)


def test_a_state_file_in_a_read_only_directory_is_refused_at_start(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    path = directory / "state.json"
    try:
        result = run_to_exit("--state-file", str(path), cwd=tmp_path, as_ordinary_user=True)
    finally:
        directory.chmod(0o755)
    _assert_refused(result, path)
    assert list(directory.iterdir()) == []


def test_a_read_only_existing_state_file_in_a_read_only_directory_is_refused(tmp_path):
    """Loading would work, but the shutdown write could not: refuse before serving."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    path = write_seed(directory, {"registries": [{"folder_id": FOLDER}]}, name="state.json")
    directory.chmod(0o555)
    try:
        result = run_to_exit("--state-file", str(path), cwd=tmp_path, as_ordinary_user=True)
    finally:
        directory.chmod(0o755)
    _assert_refused(result, path)
    assert json.loads(path.read_text()) == {"registries": [{"folder_id": FOLDER}]}


# ---- the process: writes at shutdown ------------------------------------------------------


def _seed_with_everything() -> dict:
    return {
        "registries": [
            {
                "id": "crpstateregistry0001",
                "folder_id": FOLDER,
                "name": "main",
                "created_at": "0999-01-01T00:00:00Z",
                "labels": {"env": "ci", "ünï": "cödé"},
                "images": [
                    {
                        "repository": "team/web",
                        "id": "crpstateimage0000001",
                        "digest": digest(1),
                        "tags": ["latest", "v1"],
                        "created_at": "0001-01-01T00:00:00.000000001Z",
                        "compressed_size": INT64_MAX,
                        "config": {"id": "c", "digest": digest(2), "size": INT64_MAX, "urls": ["https://m.example/c"]},
                        "layers": [{"id": "layer1", "digest": digest(3), "size": 0}],
                    },
                    {
                        "repository": "team/web",
                        "id": "crpstateimage0000002",
                        "created_at": "9999-12-31T23:59:59.999999999Z",
                    },
                    *({"repository": f"app{n % 7}", "tags": [f"v{n}"]} for n in range(50)),
                ],
            },
            {"folder_id": "b1gstatefolder000002", "images": [{"repository": "other"}]},
        ],
        "operations": [
            {
                "id": "crpstateoperation001",
                "description": "seeded: ✓",
                "created_at": "0500-05-05T05:05:05.5Z",
                "modified_at": "0500-05-05T05:05:06Z",
                "created_by": "ajeseeded",
                "done": True,
                "metadata_type": DELETE_METADATA,
                "metadata": {"image_id": "crpgone"},
                "error": {"code": "NOT_FOUND", "message": "gone: ✗"},
                "folder_id": FOLDER,
                "idempotency_key": "ajeseeded/Delete/k1",
            }
        ],
    }


def _wire_state(client: Client) -> list[bytes]:
    """Every image as the wire carries it, in a fixed order."""
    return sorted(
        image.SerializeToString(deterministic=True)
        for folder in (FOLDER, "b1gstatefolder000002")
        for image in client.list(folder_id=folder, page_size=1000)
    )


def _state_of(path: Path) -> dict:
    """The complete state a file holds, as the emulator reads it."""
    emulator = Emulator()
    emulator.load_seed(path)
    return export_state(emulator.store)


def test_sigterm_round_trip_keeps_the_state(launch, connect, tmp_path):
    state = tmp_path / "state.json"
    seed = write_seed(tmp_path, _seed_with_everything())
    first = launch("--port", "0", "--seed", str(seed), "--state-file", str(state), "--log-level", "warning")
    client = connect(first)
    request = image_service_pb2.DeleteImageRequest(image_id="crpstateimage0000002")
    deleted = client.images.Delete(request, metadata=[("idempotency-key", "retry-42")], timeout=5)
    before_images = _wire_state(client)
    before_operations = [client.operation(op).SerializeToString() for op in ("crpstateoperation001", deleted.id)]
    assert first.stop(signal.SIGTERM) == 0, first.stderr()
    assert "Traceback" not in first.stderr()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    written = state.read_bytes()

    keys = {entry["id"]: entry.get("idempotency_key") for entry in json.loads(written)["operations"]}
    assert keys["crpstateoperation001"] == "ajeseeded/Delete/k1"
    assert keys[deleted.id] is not None and keys[deleted.id].endswith("/Delete/retry-42")

    # The second process loads the state file (not the seed) and serves the same state.
    second = launch("--port", "0", "--seed", str(seed), "--state-file", str(state), "--log-level", "warning")
    client = connect(second)
    assert _wire_state(client) == before_images
    assert [
        client.operation(op).SerializeToString() for op in ("crpstateoperation001", deleted.id)
    ] == before_operations
    assert second.stop(signal.SIGTERM) == 0, second.stderr()
    assert state.read_bytes() == written  # a load and a write change nothing

    # Registries, labels and timestamps too: the file holds the seed's state, less the deleted image.
    expected = Emulator()
    expected.load_seed(_seed_with_everything())
    expected.store.delete_image("crpstateimage0000002")
    got = _state_of(state)
    unlike = {"images": None, "repositories": None}  # the repositories' ids were generated in each
    assert got["registries"][0] | unlike == export_state(expected.store)["registries"][0] | unlike
    paths = sorted(entry["path"] for entry in got["registries"][0]["repositories"])
    assert paths == sorted(entry["path"] for entry in export_state(expected.store)["registries"][0]["repositories"])
    named = [image for image in got["registries"][0]["images"] if image["id"] == "crpstateimage0000001"]
    assert named == [
        image
        for image in export_state(expected.store)["registries"][0]["images"]
        if image["id"] == "crpstateimage0000001"
    ]


def test_a_repeated_delete_after_a_restart_gets_the_first_answer(launch, connect, tmp_path):
    state = tmp_path / "state.json"
    seed = write_seed(tmp_path, _seed_with_everything())
    first = launch("--port", "0", "--seed", str(seed), "--state-file", str(state), "--log-level", "warning")
    request = image_service_pb2.DeleteImageRequest(image_id="crpstateimage0000002")
    answer = connect(first).images.Delete(request, metadata=[("idempotency-key", "retry-7")], timeout=5)
    assert first.stop(signal.SIGTERM) == 0, first.stderr()
    second = launch("--port", "0", "--state-file", str(state), "--log-level", "warning")
    again = connect(second).images.Delete(request, metadata=[("idempotency-key", "retry-7")], timeout=5)
    assert again == answer


def test_a_failed_final_write_keeps_the_state_in_a_named_fallback_file(launch, connect, tmp_path, monkeypatch):
    fallback_directory = tmp_path / "fallback"
    fallback_directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(fallback_directory))
    directory = tmp_path / "gone"
    directory.mkdir()
    state = directory / "state.json"
    seed = write_seed(tmp_path, _seed_with_everything())
    process = launch("--port", "0", "--seed", str(seed), "--state-file", str(state), "--log-level", "warning")
    before = _wire_state(connect(process))
    directory.rmdir()  # the directory goes away while it serves
    code = process.stop(signal.SIGTERM)
    stderr = process.stderr()
    assert code not in (0, None), stderr
    assert "Traceback" not in stderr, stderr
    assert str(state) in stderr and "could not be written" in stderr, stderr
    kept = list(fallback_directory.iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("state") and str(process.popen.pid) in kept[0].name, kept
    assert str(kept[0]) in stderr, stderr
    # The fallback file is a complete state file: serve it and see the same images.
    assert _wire_state(connect(launch("--port", "0", "--state-file", str(kept[0])))) == before


# ---- the process: killed during a write ---------------------------------------------------


def _temporaries(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    try:
        os.kill(child.pid, 0)
    except ProcessLookupError:
        return child.pid
    pytest.skip("the pid of an exited child was reused at once")


def test_stale_temporary_files_are_removed_at_start_but_not_a_live_writers(launch, tmp_path):
    state = tmp_path / "state.json"
    dead, live = _dead_pid(), os.getpid()
    planted = {
        f".state.json.{dead}.tmp": False,  # its writer is gone: removed
        f".state.json.{live}.tmp": True,  # another live process may be writing it: kept
        ".state.json.notapid.tmp": True,  # not a name the emulator makes: kept
        f".other.json.{dead}.tmp": True,  # another file's: kept
    }
    for name in planted:
        (tmp_path / name).write_text('{"registries": [')  # as a write cut short leaves it
    process = launch("--port", "0", "--state-file", str(state), "--log-level", "warning")
    assert _temporaries(tmp_path) == sorted(name for name, kept in planted.items() if kept)
    assert process.stop(signal.SIGTERM) == 0
    assert state.exists() and _temporaries(tmp_path) == sorted(name for name, kept in planted.items() if kept)


def _big_seed(images: int) -> dict:
    return {
        "registries": [
            {
                "folder_id": FOLDER,
                "images": [
                    {
                        "repository": f"team/app{n % 100}",
                        "tags": [f"v{n}"],
                        "config": {"digest": digest(3 * n), "size": 1500},
                        "layers": [
                            {"digest": digest(3 * n + 1), "size": 10},
                            {"digest": digest(3 * n + 2), "size": 20},
                        ],
                    }
                    for n in range(images)
                ],
            }
        ]
    }


def test_sigkill_during_the_write_leaves_the_previous_file_whole(launch, connect, tmp_path):
    """SIGTERM starts the shutdown write; SIGKILL as soon as its temporary file appears. The
    file on disk is then the old state or the new one, complete; the next start removes the
    temporary file left behind."""
    state = tmp_path / "state.json"
    seed = write_seed(tmp_path, _big_seed(20_000))
    first = launch("--port", "0", "--seed", str(seed), "--state-file", str(state), "--log-level", "warning")
    assert first.stop(signal.SIGTERM, timeout=60) == 0, first.stderr()
    old = state.read_bytes()
    old_ids = {image["id"] for image in json.loads(old)["registries"][0]["images"]}

    second = launch("--port", "0", "--state-file", str(state), "--log-level", "warning")
    victim = min(old_ids)
    connect(second).delete(victim)
    second.popen.send_signal(signal.SIGTERM)
    temporary = tmp_path / f".state.json.{second.popen.pid}.tmp"
    deadline = time.monotonic() + 60
    while not temporary.exists() and second.popen.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)  # leave the writer the CPU
    second.popen.kill()
    second.popen.wait(timeout=EXIT_TIMEOUT)

    now = state.read_bytes()
    ids = {image["id"] for image in json.loads(now)["registries"][0]["images"]}  # whole JSON, either way
    assert now == old or ids == old_ids - {victim}
    _state_of(state)  # and it loads

    third = launch("--port", "0", "--state-file", str(state), "--log-level", "warning")
    assert _temporaries(tmp_path) == []
    assert third.counts[1] == len(ids)


# ---- file modes (issue #20, P19) ------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644])
def test_an_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path, mode):
    """P19: a 0600 state file became 0644 after the shutdown write (and snapshot --output too)."""
    from emulator.state.state_file import write_text_atomically

    path = tmp_path / "state.json"
    path.write_text("{}")
    path.chmod(mode)
    write_text_atomically(path, '{"registries": []}')
    assert stat.S_IMODE(path.stat().st_mode) == mode and path.read_text() == '{"registries": []}'


def test_a_new_state_file_is_readable_by_its_owner_only(tmp_path):
    """It holds every folder's state: 0600, whatever the umask."""
    from emulator.state.state_file import write_text_atomically

    previous = os.umask(0o022)
    try:
        write_text_atomically(tmp_path / "new.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


def test_the_shutdown_write_keeps_a_0600_state_file_0600(launch, tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"registries": []}')
    state.chmod(0o600)
    process = launch("--port", "0", "--state-file", str(state), "--log-level", "warning")
    assert process.stop(signal.SIGTERM) == 0, process.stderr()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_an_atomic_write_never_writes_through_a_link_planted_at_its_temporary_path(tmp_path):
    """Found by review: the temporary file was opened without O_EXCL|O_NOFOLLOW."""
    from emulator.state.state_file import temporary_path, write_text_atomically

    path, victim = tmp_path / "state.json", tmp_path / "victim.txt"
    victim.write_text("precious")
    temporary_path(path).symlink_to(victim)
    write_text_atomically(path, "{}")
    assert victim.read_text() == "precious" and path.read_text() == "{}"
