"""Strict auth keeps every folder limit, however the caller got its token (issue #8, part 3).

The matrix: how the token was obtained (configured when the emulator was made, configured later
with ``configure_auth``, or issued by ``IamTokenService.Create`` for a configured OAuth token or
JWT) x its folder limit (none, one, two, every folder) x every method that touches a folder x the
folder acted in. An allowed folder answers normally; any other is PERMISSION_DENIED and changes
nothing. Tokens that must not work (unknown, issued before ``reset()`` or before the tokens were
reconfigured, tampered with) are UNAUTHENTICATED on every method.
"""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.iam.v1 import iam_token_service_pb2 as iam_pb
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from emulator import Emulator

OK, DENIED, UNAUTHENTICATED = grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED
FOLDERS = {"A": "b1gauthlimita0000000", "B": "b1gauthlimitb0000000", "C": "b1gauthlimitc0000000"}
A, B, C = FOLDERS.values()
LIMITS = {"empty": [], "one": [A], "two": [A, B], "all": None}
SOURCES = ("configured", "configure_auth", "oauth", "jwt")  # how the caller got its token
ISSUED = ("oauth", "jwt")
ADMIN = "admin-token"  # unrestricted: makes the operations the matrix reads


def credential(source: str, limit: str) -> str:
    """The configured token, OAuth token or JWT behind a cell (a JWT is opaque to the emulator)."""
    return f"eyJhbGciOiJQUzI1NiJ9.eyJ{limit}.c2ln" if source == "jwt" else f"{source}-{limit}-token"


# What the emulator starts with, and what reset() brings back.
TOKENS = {ADMIN: None} | {credential(s, limit): LIMITS[limit] for s in ("configured", *ISSUED) for limit in LIMITS}


def bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="module")
def strict_emulator():
    with Emulator(auth="strict", tokens=TOKENS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def stubs(strict_emulator):
    channel = strict_emulator.channel()
    yield ImageServiceStub(channel), OperationServiceStub(channel), IamTokenServiceStub(channel)
    channel.close()


@dataclass
class World:
    """A reset emulator with one registry per folder, the images each method acts on, and one
    operation per folder made by the unrestricted admin."""

    emulator: Emulator
    images: ImageServiceStub
    operations: OperationServiceStub
    iam: IamTokenServiceStub
    registries: dict  # folder id -> Registry
    targets: dict  # folder id -> {role: Image}
    admin_operations: dict  # folder id -> operation id

    def state(self) -> tuple[set, set]:
        return set(self.emulator.images), set(self.emulator.operations)

    def listed(self, folder: str) -> set[str]:
        """The ids the store holds in ``folder`` now (each test's folder has one registry)."""
        return {i.id for i in self.emulator.images.values() if i.registry_id == self.registries[folder].id}

    def token(self, source: str, limit: str) -> str:
        """A token with this cell's limit, obtained the cell's way."""
        if source == "configured":
            return credential(source, limit)
        if source == "configure_auth":
            self.emulator.configure_auth("strict", {**TOKENS, credential(source, limit): LIMITS[limit]})
            return credential(source, limit)
        return self.issue(source, credential(source, limit))

    def issue(self, source: str, secret: str) -> str:
        field = "yandex_passport_oauth_token" if source == "oauth" else "jwt"
        token = self.iam.Create(iam_pb.CreateIamTokenRequest(**{field: secret})).iam_token
        assert token and token != secret
        return token


def populate(emulator: Emulator, stubs) -> World:
    registries, targets, admin_operations = {}, {}, {}
    for folder in FOLDERS.values():
        registry = emulator.add_registry(folder)
        roles = ("get", "delete", "delete-idempotent", "operation", "other")  # "other": never touched
        images = {role: emulator.add_image(registry.id, "app", tags=[role]) for role in roles}
        operation = stubs[0].Delete(pb.DeleteImageRequest(image_id=images["operation"].id), metadata=bearer(ADMIN))
        registries[folder], targets[folder], admin_operations[folder] = registry, images, operation.id
    return World(emulator, *stubs, registries, targets, admin_operations)


@pytest.fixture
def world(strict_emulator, stubs) -> World:
    strict_emulator.reset()
    return populate(strict_emulator, stubs)


def attempt(call: Callable, request, metadata) -> tuple[grpc.StatusCode, object]:
    """The status code of a call and its response (or its error message)."""
    try:
        return OK, call(request, metadata=metadata)
    except grpc.RpcError as error:
        return error.code(), error.details()


# ---- the methods: each makes its call(s) and returns their outcomes; a check of the normal answer --------


def list_in(kind: str):
    def request(world: World, folder: str):
        registry = world.registries[folder]
        where = {"folder_id": folder, "registry_id": registry.id, "repository_name": f"{registry.id}/app"}
        return pb.ListImagesRequest(**{kind: where[kind]}, page_size=1000)

    def call(world: World, folder: str, metadata) -> list:
        return [attempt(world.images.List, request(world, folder), metadata)]

    def check(world: World, folder: str, outcomes: list) -> None:
        assert {image.id for image in outcomes[0][1].images} == world.listed(folder)

    return call, check


def get_call(world: World, folder: str, metadata) -> list:
    return [attempt(world.images.Get, pb.GetImageRequest(image_id=world.targets[folder]["get"].id), metadata)]


def get_check(world: World, folder: str, outcomes: list) -> None:
    target = world.targets[folder]["get"]
    assert (outcomes[0][1].id, outcomes[0][1].digest) == (target.id, target.digest)


def delete_call(world: World, folder: str, metadata) -> list:
    outcomes = [
        attempt(world.images.Delete, pb.DeleteImageRequest(image_id=world.targets[folder]["delete"].id), metadata)
    ]
    if outcomes[0][0] == OK:  # the caller may read the operation it made
        request = operation_pb.GetOperationRequest(operation_id=outcomes[0][1].id)
        outcomes.append(attempt(world.operations.Get, request, metadata))
    return outcomes


def delete_check(world: World, folder: str, outcomes: list) -> None:
    (_, operation), (_, read) = outcomes
    target = world.targets[folder]["delete"].id
    assert operation.done and read == operation
    assert operation.metadata.Unpack(meta := pb.DeleteImageMetadata()) and meta.image_id == target
    assert target not in world.emulator.images


def delete_idempotent_call(world: World, folder: str, metadata) -> list:
    request = pb.DeleteImageRequest(image_id=world.targets[folder]["delete-idempotent"].id)
    keyed = (*metadata, ("idempotency-key", f"retry-{folder}"))
    return [attempt(world.images.Delete, request, keyed) for _ in range(2)]


def delete_idempotent_check(world: World, folder: str, outcomes: list) -> None:
    (_, first), (_, again) = outcomes
    target = world.targets[folder]["delete-idempotent"].id
    assert again == first and first.done
    assert len([o for o in world.emulator.operations.values() if o.metadata.get("image_id") == target]) == 1


def operation_get_call(world: World, folder: str, metadata) -> list:
    request = operation_pb.GetOperationRequest(operation_id=world.admin_operations[folder])
    return [attempt(world.operations.Get, request, metadata)]


def operation_get_check(world: World, folder: str, outcomes: list) -> None:
    operation = outcomes[0][1]
    assert operation.id == world.admin_operations[folder] and operation.done


METHODS = {
    "list-folder": list_in("folder_id"),
    "list-registry": list_in("registry_id"),
    "list-repository": list_in("repository_name"),
    "get": (get_call, get_check),
    "delete": (delete_call, delete_check),
    "delete-idempotent": (delete_idempotent_call, delete_idempotent_check),
    "operation-get": (operation_get_call, operation_get_check),
}


def allowed(limit: str, folder: str) -> bool:
    return LIMITS[limit] is None or folder in LIMITS[limit]


def every_method(world: World, metadata, folder: str = A) -> dict[str, list]:
    """Each method's status codes for a folder (A by default, in every limit but "empty")."""
    return {name: [code for code, _ in call(world, folder, metadata)] for name, (call, _) in METHODS.items()}


def assert_every_method_is(world: World, metadata, code: grpc.StatusCode, folder: str = A) -> None:
    before = world.state()
    codes = every_method(world, metadata, folder)
    assert codes == {name: [code] * len(got) for name, got in codes.items()}
    assert world.state() == before  # a refused call changes nothing


MATRIX = [
    pytest.param(source, limit, method, folder, id=f"{source}-{limit}-{method}-{name}")
    for source in SOURCES
    for limit in LIMITS
    for method in METHODS
    for name, folder in FOLDERS.items()
]


@pytest.mark.parametrize(("source", "limit", "method", "folder"), MATRIX)
def test_a_token_keeps_its_folder_limit(world, source, limit, method, folder):
    metadata = bearer(world.token(source, limit))
    call, check = METHODS[method]
    before = world.state()
    outcomes = call(world, folder, metadata)
    if allowed(limit, folder):
        assert [code for code, _ in outcomes] == [OK] * len(outcomes), outcomes
        check(world, folder, outcomes)
    else:
        assert [code for code, _ in outcomes] == [DENIED] * len(outcomes), outcomes
        assert world.state() == before  # a refused Delete deletes nothing and records no operation


@pytest.mark.parametrize(
    "metadata", [bearer("never-configured"), bearer(ADMIN + "x"), ()], ids=["unknown", "admin-plus-one", "missing"]
)
def test_a_token_the_emulator_does_not_know_is_unauthenticated_everywhere(world, metadata):
    for folder in FOLDERS.values():
        assert_every_method_is(world, metadata, UNAUTHENTICATED, folder)


@pytest.mark.parametrize("source", SOURCES)
def test_an_empty_folder_list_touches_no_folder(world, source):
    """An empty list means no folder, never every folder (D2)."""
    metadata = bearer(world.token(source, "empty"))
    for folder in FOLDERS.values():
        assert_every_method_is(world, metadata, DENIED, folder)


@pytest.mark.parametrize("source", ("configured", *ISSUED))
def test_an_empty_folder_list_alone_is_denied_everywhere(strict_emulator, stubs, source):
    """``tokens={"t": []}`` and nothing else: no folder for the token, nor for IAM tokens made from it."""
    strict_emulator.reset()
    world = populate(strict_emulator, stubs)  # operations made with the default tokens
    strict_emulator.configure_auth("strict", {"t": []})
    token = "t" if source == "configured" else world.issue(source, "t")
    for folder in FOLDERS.values():
        assert_every_method_is(world, bearer(token), DENIED, folder)


@pytest.mark.parametrize("source", ISSUED)
@pytest.mark.parametrize("event", ["reset", "credential-removed", "credential-narrowed", "other-token-added"])
def test_an_issued_token_dies_when_the_tokens_change(strict_emulator, stubs, world, source, event):
    """An IAM token is only as good as the configuration it was issued under."""
    secret = credential(source, "two")
    token = world.issue(source, secret)
    assert attempt(world.images.List, pb.ListImagesRequest(folder_id=B), bearer(token))[0] == OK  # before
    if event == "reset":
        strict_emulator.reset()  # the same tokens come back, but not the IAM tokens issued before
        world = populate(strict_emulator, stubs)
    elif event == "credential-removed":
        strict_emulator.configure_auth("strict", {k: v for k, v in TOKENS.items() if k != secret})
    elif event == "credential-narrowed":
        strict_emulator.configure_auth("strict", {**TOKENS, secret: [A]})
    else:
        strict_emulator.configure_auth("strict", {**TOKENS, "newcomer": None})
    for folder in FOLDERS.values():
        assert_every_method_is(world, bearer(token), UNAUTHENTICATED, folder)


@pytest.mark.parametrize("source", ISSUED)
def test_a_token_issued_after_a_change_follows_the_new_limit(strict_emulator, world, source):
    secret = credential(source, "two")
    strict_emulator.configure_auth("strict", {**TOKENS, secret: [B]})
    token = world.issue(source, secret)
    assert_every_method_is(world, bearer(token), DENIED, A)
    for name, (call, check) in METHODS.items():
        outcomes = call(world, B, bearer(token))
        assert [code for code, _ in outcomes] == [OK] * len(outcomes), name
        check(world, B, outcomes)


def test_a_configured_token_follows_configure_auth_at_once(strict_emulator, world):
    token = credential("configured", "two")
    strict_emulator.configure_auth("strict", {**TOKENS, token: [A]})
    assert_every_method_is(world, bearer(token), DENIED, B)
    strict_emulator.configure_auth("strict", {k: v for k, v in TOKENS.items() if k != token})
    for folder in FOLDERS.values():
        assert_every_method_is(world, bearer(token), UNAUTHENTICATED, folder)


@pytest.mark.parametrize("source", ISSUED)
def test_create_for_a_credential_no_longer_configured_is_unauthenticated(strict_emulator, world, source):
    secret = credential(source, "one")
    world.issue(source, secret)
    strict_emulator.configure_auth("strict", {k: v for k, v in TOKENS.items() if k != secret})
    field = "yandex_passport_oauth_token" if source == "oauth" else "jwt"
    code, _ = attempt(world.iam.Create, iam_pb.CreateIamTokenRequest(**{field: secret}), None)
    assert code == UNAUTHENTICATED


@pytest.mark.parametrize("field", ["yandex_passport_oauth_token", "jwt"])
@pytest.mark.parametrize(
    "secret",
    ["never-configured", "eyJub3QiOiJ1cyJ9.e30.c2ln", f"{ADMIN}x", "IAM-TOKEN"],
    ids=["unknown", "unknown-jwt", "near-miss", "an-issued-iam-token"],
)
@pytest.mark.behaviour(
    "IamTokenService/Create",
    "choice",
    "Under strict auth only configured credentials are traded; others are UNAUTHENTICATED.",
    "strict auth knows its tokens in advance",
)
def test_strict_create_trades_only_configured_credentials(world, field, secret):
    if secret == "IAM-TOKEN":  # an IAM token is not an OAuth token or JWT: no token chaining
        secret = world.issue("oauth", credential("oauth", "one"))
    code, _ = attempt(world.iam.Create, iam_pb.CreateIamTokenRequest(**{field: secret}), None)
    assert code == UNAUTHENTICATED


def replacements(char: str) -> set[str]:
    """Two different characters for ``char``: the next in the base64url alphabet (which changes its
    lowest bit: a padding bit at a base64 string's end) and one whose ASCII code differs in a bit."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    chosen = {alphabet[(alphabet.index(char) + 1) % 64] if char in alphabet else "A", chr(ord(char) ^ 1)}
    return {c for c in chosen if c != char and c.isprintable() and not c.isspace()}


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("source", ISSUED)
def test_a_tampered_iam_token_is_unauthenticated(world, source, limit):
    """Every single-character change, a truncation and an extension: never a token that works."""
    token = world.issue(source, credential(source, limit))
    request = pb.ListImagesRequest(folder_id=A)
    assert attempt(world.images.List, request, bearer(token))[0] == (OK if allowed(limit, A) else DENIED)
    forged = {token[:i] + other + token[i + 1 :] for i, char in enumerate(token) for other in replacements(char)}
    forged |= {token[:-1], token + "A", token[1:]}
    codes = {forgery: attempt(world.images.List, request, bearer(forgery))[0] for forgery in sorted(forged)}
    assert {forgery: code for forgery, code in codes.items() if code != UNAUTHENTICATED} == {}


FOLDERLESS_OPERATION = {  # as a seed (or an old state file) may hold one
    "id": "crpfolderlessop00000",
    "metadata_type": "yandex.cloud.containerregistry.v1.DeleteImageMetadata",
    "metadata": {"image_id": "crpgone0000000000000"},
    "response_type": "google.protobuf.Empty",
}


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.behaviour(
    "OperationService/Get",
    "choice",
    "A caller may read an operation only if it may touch the folder it acted in.",
    "IAM is not emulated; the folder is the unit of access",
)
def test_an_operation_without_a_folder_is_readable_only_by_unrestricted_tokens(world, source, limit):
    world.emulator.load_seed({"registries": [], "operations": [FOLDERLESS_OPERATION]})
    request = operation_pb.GetOperationRequest(operation_id=FOLDERLESS_OPERATION["id"])
    code, _ = attempt(world.operations.Get, request, bearer(world.token(source, limit)))
    assert code == (OK if LIMITS[limit] is None else DENIED)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.behaviour(
    "*",
    "choice",
    "Authentication comes first, then validation, then existence, then the folder: an unknown id is NOT_FOUND for any caller.",
    "the order is not documented; checking existence first answers an unknown id alike for every caller",
)
def test_unknown_ids_are_not_found_even_without_access_anywhere(world, source):
    """Existence before the folder check (the README's auth order)."""
    metadata = bearer(world.token(source, "empty"))
    for call, request in (
        (world.images.Get, pb.GetImageRequest(image_id="crpnosuchimage000000")),
        (world.images.Delete, pb.DeleteImageRequest(image_id="crpnosuchimage000000")),
        (world.images.List, pb.ListImagesRequest(registry_id="crpnosuchregistry000")),
        (world.operations.Get, operation_pb.GetOperationRequest(operation_id="crpnosuchoperation00")),
    ):
        assert attempt(call, request, metadata)[0] == grpc.StatusCode.NOT_FOUND, request


@pytest.mark.parametrize("source", ("configured", *ISSUED))
def test_a_repeated_delete_does_not_outlive_a_narrowed_limit(strict_emulator, world, source):
    """The idempotency-key path answers from the stored operation: it must check the folder again.
    (The same credential is the same caller, so the key finds the first Delete.)"""
    secret = credential(source, "two")
    request = pb.DeleteImageRequest(image_id=world.targets[B]["delete-idempotent"].id)
    key = ("idempotency-key", "narrowed")
    assert attempt(world.images.Delete, request, (*bearer(world.token(source, "two")), key))[0] == OK
    strict_emulator.configure_auth("strict", {**TOKENS, secret: [A]})
    before = world.state()
    assert attempt(world.images.Delete, request, (*bearer(world.token(source, "two")), key))[0] == DENIED
    assert world.state() == before


@pytest.mark.parametrize("source", ISSUED)
@pytest.mark.behaviour(
    "IamTokenService/Create",
    "documented",
    "An IAM token's expires_at is at most 12 hours after it is issued.",
    "https://github.com/yandex-cloud/docs/blob/master/en/iam/concepts/authorization/iam-token.md (IAM tokens are valid for a maximum of 12 hours)",
)
@pytest.mark.behaviour(
    "IamTokenService/Create",
    "choice",
    "An IAM token lives exactly 12 hours, by the emulator's clock.",
    "the page gives the maximum only; the longest lets a long test run keep one token",
)
def test_an_iam_token_expires_twelve_hours_after_it_is_issued(world, source):
    field = "yandex_passport_oauth_token" if source == "oauth" else "jwt"
    before = time.time_ns()
    answer = world.iam.Create(iam_pb.CreateIamTokenRequest(**{field: credential(source, "one")}))
    after = time.time_ns()
    twelve_hours, second = 12 * 3600 * 10**9, 10**9
    assert before + twelve_hours - second <= answer.expires_at.ToNanoseconds() <= after + twelve_hours


@pytest.mark.parametrize("source", ISSUED)
def test_an_expired_iam_token_is_unauthenticated_everywhere(source):
    """The 12-hour expiry is enforced over the wire (a settable clock, no waiting)."""
    from emulator.rpc.auth import Auth

    now = [1_700_000_000 * 10**9]
    emulator = Emulator(auth="strict", tokens=TOKENS)
    emulator.auth = Auth("strict", TOKENS, clock=lambda: now[0])  # before start(): the services use this one
    with emulator:
        channel = emulator.channel()
        stubs = ImageServiceStub(channel), OperationServiceStub(channel), IamTokenServiceStub(channel)
        world = populate(emulator, stubs)
        token = world.issue(source, credential(source, "one"))
        now[0] += 12 * 3600 * 10**9 - 1
        assert attempt(world.images.List, pb.ListImagesRequest(folder_id=A), bearer(token))[0] == OK
        now[0] += 1
        for folder in FOLDERS.values():
            assert_every_method_is(world, bearer(token), UNAUTHENTICATED, folder)
        channel.close()
