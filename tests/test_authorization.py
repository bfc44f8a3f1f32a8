"""Every served method refuses a caller without access to the folder it acts in (strict auth), and
changes nothing; the same request from a caller allowed every folder is served. The methods are the
catalogue's, so a new method is checked the day it is declared.

And the pipeline's own guard: a handler that answers without the call having been authorized is an
emulator defect, answered INTERNAL, never served as if allowed (whatever the auth mode).
"""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass

from emulator import Emulator
from emulator.api.catalogue import Method
from emulator.api.wire import message_class
from emulator.rpc.auth import Auth
from emulator.rpc.pipeline import generic_handler
from emulator.rpc.services import CATALOGUE
from emulator.rpc.services.images import SERVICE as IMAGE_SERVICE
from tests.support.requests import FOLDER, OTHER_FOLDER, load_world, valid_fields

ADMIN, ELSEWHERE = "admin-token", "elsewhere-token"  # every folder; OTHER_FOLDER only
GUARDED = [method for method in CATALOGUE if not method.service.public]


def bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="module")
def strict_emulator():
    with Emulator(auth="strict", tokens={ADMIN: None, ELSEWHERE: [OTHER_FOLDER]}) as emulator:
        yield emulator


def send(emulator: Emulator, method: Method, request, token: str) -> grpc.StatusCode:
    with emulator.channel() as channel:
        call = channel.unary_unary(
            f"/{method.full}", request_serializer=lambda m: m.SerializeToString(), response_deserializer=bytes
        )
        try:
            call(request, metadata=bearer(token), timeout=10)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("method", GUARDED, ids=lambda method: method.short)
@pytest.mark.behaviour(
    "*",
    "choice",
    "A caller without access to the resource's folder is PERMISSION_DENIED and changes nothing.",
    "IAM roles are not emulated: strict auth limits a token to folders, the nearest stand-in a test can set",
)
def test_a_caller_without_access_to_the_folder_is_denied_and_changes_nothing(strict_emulator, method):
    strict_emulator.reset()
    world = load_world(strict_emulator, bearer(ADMIN))
    request = GetMessageClass(message_class(method.request_type).DESCRIPTOR)(
        **valid_fields(method.request_type, method.service.short, world)
    )
    before = strict_emulator.state()
    assert send(strict_emulator, method, request, ELSEWHERE) == grpc.StatusCode.PERMISSION_DENIED
    assert strict_emulator.state() == before
    # The request itself was fine: a caller allowed every folder gets past existence and access.
    answered = send(strict_emulator, method, request, ADMIN)
    assert answered not in (
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    )


def test_a_handler_that_never_authorizes_is_answered_internal_not_served():
    """A service whose List forgets its folder check (in auth mode none, where every check passes):
    the pipeline refuses to send its answer."""

    def careless(request, call):
        return message_class("yandex.cloud.containerregistry.v1.ListImagesResponse")()

    handlers = {"List": careless, "Get": careless, "Delete": careless}
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers([generic_handler(IMAGE_SERVICE, handlers, Auth("none"))])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            list_images = channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/List")
            request = message_class("yandex.cloud.containerregistry.v1.ListImagesRequest")(folder_id=FOLDER)
            with pytest.raises(grpc.RpcError) as caught:
                list_images(request.SerializeToString(), timeout=10)
        assert caught.value.code() == grpc.StatusCode.INTERNAL
        assert "without checking its caller's access" in caught.value.details()
    finally:
        server.stop(None)


def test_a_malformed_folder_is_invalid_argument_before_any_folder_check(strict_emulator):
    """P14: Create(folder_id="Folder!") was PERMISSION_DENIED for a token limited to another
    folder, INVALID_ARGUMENT in auth mode none: validation comes before access, in every mode."""
    from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb

    strict_emulator.reset()
    method = CATALOGUE.method("yandex.cloud.containerregistry.v1.RegistryService/Create")
    with strict_emulator.channel() as channel:
        create = channel.unary_unary(f"/{method.full}", request_serializer=lambda m: m.SerializeToString())
        with pytest.raises(grpc.RpcError) as caught:
            create(registry_pb.CreateRegistryRequest(folder_id="Folder!"), metadata=bearer(ELSEWHERE), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("folder_id: ")
    assert strict_emulator.registries == {}


@pytest.mark.parametrize("method", [m for m in CATALOGUE.keyset_lists if "folder" in dict(m.spec.scopes).values()], ids=str)
@pytest.mark.parametrize("auth", ["none", "strict"])
@pytest.mark.behaviour(
    "*",
    "choice",
    "A folder id the emulator cannot hold (not 1-50 lowercase letters and digits) is INVALID_ARGUMENT naming folder_id.",
    "production's answer to a malformed folder id is not documented",
)
def test_a_list_in_a_malformed_folder_is_invalid_argument_in_every_mode(method, auth):
    """Found by review: P14 held for Create only; List(folder_id="Folder!") answered an empty page
    in auth mode none and PERMISSION_DENIED in strict mode."""
    tokens = {ELSEWHERE: [OTHER_FOLDER]} if auth == "strict" else None
    with Emulator(auth=auth, tokens=tokens) as emulator:
        field = next(field for field, kind in method.spec.scopes if kind == "folder")
        request = message_class(method.request_type)(**{field: "Folder!"})
        assert send(emulator, method, request, ELSEWHERE) == grpc.StatusCode.INVALID_ARGUMENT
