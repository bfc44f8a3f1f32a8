"""Readers and writers at once, through the wire: readers page (every scope and order) and Get
while writers add, delete, load seeds and reset. No read may fail inside the emulator (INTERNAL or
UNKNOWN: D5, a Get racing reset() saw half of a state), no paging run may return an image twice
or out of order, and none may skip a survivor: an image added before the run began and neither
deleted nor reset away before it ended.

The emulator is this module's own, so that its reset storms disturb no other test. The runs are
bounded by a number of writer steps, never by time; the thread switch interval is made short so
that the threads interleave inside the emulator's methods, where such races live.
"""

from __future__ import annotations

import itertools
import random
import sys
import threading
from collections import deque
from dataclasses import dataclass

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc

from conftest import iter_pages, violation_fields
from emulator import Emulator

FOLDERS = ("b1gconcurrenta", "b1gconcurrentb")
REGISTRIES = {"crpconcura": FOLDERS[0], "crpconcurb": FOLDERS[0], "crpconcurc": FOLDERS[1]}
REPOSITORIES = ("app", "team", "team/web")
BASE_NS = 1_700_000_000 * 1_000_000_000
CREATED_AT = tuple(BASE_NS + n * 1_000_000_000 for n in range(4))  # few values: ties on created_at
ORDERS = ("id", "name", "created_at")
TIMEOUT = 10
MAX_PAGES = 20_000  # a paging run ends once the writers stop; no state here holds that many images
OK, NOT_FOUND, INVALID = grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def own():
    """An emulator of this module's own, and the official SDK's ImageServiceStub on it."""
    with Emulator(random_seed=99) as emulator:
        channel = emulator.channel()
        yield emulator, image_service_pb2_grpc.ImageServiceStub(channel)
        channel.close()


@pytest.fixture
def interleaved():
    """Switch threads every 10 µs instead of every 5 ms: races show up in a short run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def seed(number: int, image_ids: list[str], fails: bool = False) -> dict:
    """A seed that adds a registry with images. ``fails``: the registry is listed twice, so
    the seed fails at its end and everything it had added is taken back."""
    registry_id = f"crpseeded{number}"
    images = [
        {"repository": REPOSITORIES[n % len(REPOSITORIES)], "id": image_id, "tags": ["latest"]}
        for n, image_id in enumerate(image_ids)
    ]
    registries = [{"id": registry_id, "folder_id": FOLDERS[number % 2], "images": images}]
    return {"registries": registries + ([{"id": registry_id, "folder_id": FOLDERS[0]}] if fails else [])}


def run_threads(targets) -> None:
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive(), "a thread did not finish"


# ---- 1. reads racing reset() and load_seed() --------------------------------------------


def test_reads_racing_reset_and_seeds_see_one_consistent_state(own, interleaved):
    """Get and List while reset() and load_seed() (successful and failing ones) swap the state
    under them: only OK, NOT_FOUND, or INVALID_ARGUMENT naming page_token (a token from before a
    reset), never INTERNAL (D5)."""
    emulator, images = own
    ids = [f"crprace{n}" for n in range(6)]
    done = threading.Event()
    problems: list[str] = []

    def writer() -> None:
        try:
            for round_number in range(1500):
                emulator.reset()
                for registry_id, folder in REGISTRIES.items():
                    emulator.add_registry(folder, id=registry_id)
                for n, image_id in enumerate(ids[:3]):
                    emulator.add_image(list(REGISTRIES)[n % 3], REPOSITORIES[n % 3], id=image_id, tags=["v1"])
                emulator.load_seed(seed(round_number, ids[3:]))
                try:
                    emulator.load_seed(seed(round_number + 1, [f"crpracetaken{round_number}"], fails=True))
                    problems.append("a seed that lists a registry twice was loaded")
                except ValueError:
                    pass  # taken back whole
        finally:
            done.set()

    def getter(number: int) -> None:
        rng = random.Random(number)
        while not done.is_set():
            image_id = rng.choice(ids)
            try:
                image = images.Get(pb.GetImageRequest(image_id=image_id), timeout=TIMEOUT)
                if image.id != image_id:
                    problems.append(f"Get({image_id}) answered {image.id}")
            except grpc.RpcError as error:
                if error.code() != NOT_FOUND:
                    problems.append(f"Get({image_id}): {error.code().name} {error.details()}")

    def lister() -> None:
        rng = random.Random(2)
        while not done.is_set():
            scope = rng.choice(
                [{"folder_id": rng.choice(FOLDERS)}, {"registry_id": rng.choice(list(REGISTRIES))}]
                + [{"repository_name": f"{rng.choice(list(REGISTRIES))}/{path}"} for path in REPOSITORIES]
            )
            query = dict(scope, order_by=rng.choice(ORDERS), page_size=1)
            token = ""  # the token the next call carries
            try:
                for page in iter_pages(images.List, pb.ListImagesRequest, timeout=TIMEOUT, **query):
                    token = page.next_page_token
                    if done.is_set():
                        break
            except grpc.RpcError as error:
                expected = (error.code() == NOT_FOUND and "folder_id" not in query) or (
                    error.code() == INVALID and token and violation_fields(error) == {"page_token"}
                )
                if not expected:
                    problems.append(f"List({query}, token={bool(token)}): {error.code().name} {error.details()}")
            except AssertionError as error:  # the walk did not end
                problems.append(f"List({query}): {error}")

    run_threads([writer, lambda: getter(1), lambda: getter(2), lister])
    assert not problems, f"{len(problems)} bad answers, the first: {problems[:5]}"


# ---- 2. paging while writers add, delete, seed and reset ---------------------------------


@dataclass
class Incarnation:
    """One life of an image id: from its add to its delete or a reset."""

    id: str
    name: str
    folder: str
    added: int  # the clock when add_image returned (it is visible from then on)


class History:
    """What the writers did, on one clock. An add is noted when it begins and when it returns, a
    Delete when it is sent and when it returns, a reset when it begins and when its registries are
    back. A reader judges a run by the clock with these windows, so it errs only towards allowing."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clock = itertools.count(1)
        self.incarnations: list[Incarnation] = []
        self.add_started: dict[str, list[int]] = {}  # id -> clocks at which an add of it began
        self.deletes: dict[str, list[list[int]]] = {}  # id -> [clock the Delete was sent, clock it returned or 0]
        self.resets: list[list[int]] = []  # [clock at reset() start, clock when its registries were back or 0]
        self.folders: dict[str, str] = dict(REGISTRIES)  # registry id -> folder
        self._stopped_at: deque[str] = deque(maxlen=4)  # where readers' latest pages stopped

    def tick(self) -> int:
        with self._lock:
            return next(self._clock)

    def adding(self, image_id: str) -> None:
        with self._lock:
            self.add_started.setdefault(image_id, []).append(next(self._clock))

    def added(self, image_id: str, name: str) -> None:
        with self._lock:
            folder = self.folders[name.partition("/")[0]]
            self.incarnations.append(Incarnation(image_id, name, folder, next(self._clock)))

    def deleting(self, image_id: str) -> list[int]:
        """Note a Delete about to be sent; pass what this returns to ``deleted`` when it returns.
        (Its effect may land any time in between: even on an image added again meanwhile.)"""
        with self._lock:
            window = [next(self._clock), 0]
            self.deletes.setdefault(image_id, []).append(window)
            return window

    def deleted(self, window: list[int]) -> None:
        with self._lock:
            window[1] = next(self._clock)

    def resetting(self) -> None:
        with self._lock:
            self.resets.append([next(self._clock), 0])

    def restored(self) -> None:
        with self._lock:
            self.resets[-1][1] = next(self._clock)

    def reset_within(self, start: int, end: int) -> bool:
        """Whether a reset began before ``end`` and had not brought its registries back by ``start``."""
        with self._lock:
            return any(began < end and (back == 0 or back > start) for began, back in self.resets)

    def re_added_since(self, image_id: str, start: int) -> bool:
        with self._lock:
            return any(clock > start for clock in self.add_started.get(image_id, ()))

    def survivors(self, start: int, end: int) -> list[Incarnation]:
        """Images visible before ``start`` that nothing could have removed before ``end``."""
        with self._lock:
            resets = [began for began, _ in self.resets]
            return [
                life
                for life in self.incarnations
                if life.added < start
                and not any(
                    sent < end and (back == 0 or back > life.added) for sent, back in self.deletes.get(life.id, ())
                )
                and not any(life.added < clock < end for clock in resets)
            ]

    def folder_of(self, registry_id: str) -> str | None:
        with self._lock:
            return self.folders.get(registry_id)

    def stop(self, image_id: str) -> None:
        """A reader's page stopped at this image."""
        with self._lock:
            self._stopped_at.append(image_id)

    def stopped_at(self) -> list[str]:
        with self._lock:
            return list(self._stopped_at)

    def seeding(self, registry_id: str, folder: str) -> None:
        with self._lock:
            self.folders[registry_id] = folder

    def any_id(self, rng: random.Random) -> str | None:
        """An id ever added, if any."""
        with self._lock:
            return rng.choice(self.incarnations).id if self.incarnations else None


@dataclass(frozen=True)
class Query:
    kind: str
    value: str
    order: str
    descending: bool
    excluded: str | None  # a name the filter leaves out (name != ...), or None
    page_size: int

    def request(self, token: str) -> pb.ListImagesRequest:
        scope_field = {"folder": "folder_id", "registry": "registry_id", "repository": "repository_name"}[self.kind]
        return pb.ListImagesRequest(
            **{scope_field: self.value},
            order_by=f"{self.order} {'desc' if self.descending else 'asc'}",
            filter=f'name != "{self.excluded}"' if self.excluded else "",
            page_size=self.page_size,
            page_token=token,
        )

    def covers(self, name: str, folder: str | None) -> bool:
        registry_id = name.partition("/")[0]
        if self.kind == "folder":
            in_scope = folder == self.value
        elif self.kind == "registry":
            in_scope = registry_id == self.value
        else:
            in_scope = name == self.value
        return in_scope and name != self.excluded

    def key(self, image) -> tuple:
        value = {"id": image.id, "name": image.name, "created_at": image.created_at.ToNanoseconds()}[self.order]
        return (value, image.id)


def random_query(rng: random.Random) -> Query:
    registry_id = rng.choice(list(REGISTRIES))
    kind, value = rng.choice(
        [("folder", rng.choice(FOLDERS)), ("registry", registry_id)]
        + [("repository", f"{registry_id}/{rng.choice(REPOSITORIES)}")]
    )
    excluded = f"{registry_id}/{rng.choice(REPOSITORIES)}" if rng.random() < 0.3 else None
    return Query(kind, value, rng.choice(ORDERS), rng.random() < 0.5, excluded, rng.randint(1, 7))


def test_paging_while_writers_add_delete_seed_and_reset(own, interleaved):
    """Two readers page through random queries (every scope and order, some filtered) while a
    writer adds, deletes (often the image a reader's page just stopped at, then adds its id again:
    D8), seeds and resets, and two more threads Delete and Get any id: every page answer is in
    order, within its query, without repeats, and a finished run misses no survivor."""
    emulator, images = own
    emulator.reset()
    history = History()
    for registry_id, folder in REGISTRIES.items():
        emulator.add_registry(folder, id=registry_id)
    done = threading.Event()
    problems: list[str] = []
    complete_runs: list[Query] = []  # list.append is atomic: the pagers share it
    names = itertools.count()

    def delete(image_id: str) -> None:
        window = history.deleting(image_id)
        try:
            images.Delete(pb.DeleteImageRequest(image_id=image_id), timeout=TIMEOUT)
        except grpc.RpcError as error:
            if error.code() != NOT_FOUND:  # NOT_FOUND: the other deleter was first
                problems.append(f"Delete: {error.code().name} {error.details()}")
        finally:
            history.deleted(window)

    def writer() -> None:
        """Adds (tags move; ids deleted before come back with another created_at), deletes,
        seeds and, rarely, resets. The only thread that adds or resets."""
        rng = random.Random(3)
        live: dict[str, str] = {}  # id -> name, as far as this thread knows
        gone: list[str] = []  # deleted ids of the current state, to add again
        registries = dict(REGISTRIES)
        try:
            for step in range(3000):
                roll = rng.random()
                if roll < 0.55:
                    if gone and rng.random() < 0.5:
                        image_id = gone.pop(rng.randrange(len(gone)) if rng.random() < 0.5 else -1)
                    else:
                        image_id = f"crpconc{next(names)}"
                    registry_id = rng.choice(list(registries))
                    history.adding(image_id)
                    image = emulator.add_image(
                        registry_id,
                        rng.choice(REPOSITORIES),
                        id=image_id,
                        created_at_ns=rng.choice(CREATED_AT),
                        tags=rng.sample(["latest", "v1", "v2"], rng.randint(0, 2)),
                    )
                    history.added(image.id, image.name)
                    live[image.id] = image.name
                elif roll < 0.85 and live:
                    # Often the image a reader's page just stopped at, so that its next page
                    # resumes from a deleted (and maybe re-added) image (D8).
                    stopped_at = [image_id for image_id in history.stopped_at() if image_id in live]
                    image_id = rng.choice(stopped_at) if stopped_at and rng.random() < 0.5 else rng.choice(list(live))
                    delete(image_id)
                    del live[image_id]
                    gone.append(image_id)
                elif roll < 0.9:
                    seed_ids = [f"crpconc{next(names)}" for _ in range(rng.randint(1, 4))]
                    for image_id in seed_ids:
                        history.adding(image_id)
                    history.seeding(f"crpseeded{step}", FOLDERS[step % 2])
                    try:
                        _, added = emulator.load_seed(seed(step, seed_ids, fails=rng.random() < 0.5))
                    except ValueError:
                        continue  # taken back whole
                    for image in added:
                        history.added(image.id, image.name)
                        live[image.id] = image.name
                    registries[f"crpseeded{step}"] = FOLDERS[step % 2]
                elif roll < 0.91:
                    history.resetting()
                    emulator.reset()
                    for registry_id, folder in REGISTRIES.items():
                        emulator.add_registry(folder, id=registry_id)
                    history.restored()
                    live.clear()
                    gone.clear()
                    registries = dict(REGISTRIES)
        finally:
            done.set()

    def deleter() -> None:
        """Deletes any id ever added, racing the writer."""
        rng = random.Random(4)
        while not done.is_set():
            image_id = history.any_id(rng)
            if image_id is None:
                continue
            delete(image_id)

    def getter() -> None:
        rng = random.Random(5)
        while not done.is_set():
            image_id = history.any_id(rng)
            if image_id is None:
                continue
            try:
                images.Get(pb.GetImageRequest(image_id=image_id), timeout=TIMEOUT)
            except grpc.RpcError as error:
                if error.code() != NOT_FOUND:
                    problems.append(f"Get: {error.code().name} {error.details()}")

    def pager(number: int) -> None:
        rng = random.Random(10 + number)
        while not done.is_set():
            page_through(rng, random_query(rng))

    def page_through(rng: random.Random, query: Query) -> None:
        start = history.tick()
        token, seen, last_key = "", {}, None  # token: the one the next call carries
        try:
            for page in iter_pages(images.List, query.request(""), max_pages=MAX_PAGES, timeout=TIMEOUT):
                for image in page:
                    key = query.key(image)
                    if last_key is not None and not (key < last_key if query.descending else key > last_key):
                        problems.append(f"List {query}: {image.id} out of order after {last_key}")
                    if image.id in seen and not history.re_added_since(image.id, start):
                        problems.append(f"List {query}: {image.id} returned twice in one run")
                    if not query.covers(image.name, history.folder_of(image.name.partition("/")[0])):
                        problems.append(f"List {query}: {image.id} ({image.name}) is outside the query")
                    seen[image.id] = key
                    last_key = key
                token = page.next_page_token
                if token:
                    history.stop(page[-1].id)
        except grpc.RpcError as error:
            now = history.tick()
            # A reset may void a token (INVALID_ARGUMENT naming page_token) or take a registry away.
            voided = error.code() == INVALID and token and violation_fields(error) == {"page_token"}
            gone = error.code() == NOT_FOUND and query.kind != "folder"
            if (voided or gone) and history.reset_within(start, now):
                return
            problems.append(f"List {query} after {len(seen)} images: {error.code().name} {error.details()}")
            return
        except AssertionError as error:  # the walk did not end (in a thread: note it, the test fails)
            problems.append(f"List {query}: {error}")
            return
        end = history.tick()
        complete_runs.append(query)
        skipped = [
            life.id
            for life in history.survivors(start, end)
            if query.covers(life.name, life.folder) and life.id not in seen
        ]
        if skipped:
            problems.append(f"List {query}: skipped {len(skipped)} images that existed throughout: {skipped[:5]}")

    run_threads([writer, deleter, getter, lambda: pager(1), lambda: pager(2)])
    assert len(complete_runs) > 20  # the readers did page while the writers wrote
    assert not problems, f"{len(problems)} problems in {len(complete_runs)} runs, the first: {problems[:5]}"
