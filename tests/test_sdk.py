"""The unmodified official SDK against the emulator: TLS, endpoint discovery, IAM tokens,
the three auth modes, request metadata and idempotent Delete."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import warnings
from datetime import datetime, timezone

import grpc
import pytest
import yandexcloud
from google.protobuf import empty_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub
from yandex.cloud.endpoint import api_endpoint_service_pb2 as endpoint_pb
from yandex.cloud.endpoint.api_endpoint_service_pb2_grpc import ApiEndpointServiceStub
from yandex.cloud.iam.v1 import iam_token_service_pb2 as iam_pb
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import rpc_error
from emulator import Emulator
from emulator.control.process import parse_ready_line
from emulator.rpc.auth import subject_of
from tests.support.exercised import assert_exercised

FOLDER_A = "b1gfoldera0000000000"
FOLDER_B = "b1gfolderb0000000000"


def _sdk(emulator: Emulator, **credentials) -> yandexcloud.SDK:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK deprecates OAuth tokens
        return yandexcloud.SDK(endpoint=emulator.endpoint, root_certificates=emulator.ca_pem, **credentials)


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(tls=True) as emulator:
        yield emulator


@pytest.fixture
def tls(tls_emulator):
    tls_emulator.reset()
    a = tls_emulator.add_registry(FOLDER_A)
    b = tls_emulator.add_registry(FOLDER_B)
    tls_emulator.images_a = [tls_emulator.add_image(a.id, "app", tags=[f"v{n}"]) for n in range(3)]
    tls_emulator.images_b = [tls_emulator.add_image(b.id, "app")]
    return tls_emulator


def test_the_sdk_lists_gets_deletes_and_waits(tls):
    sdk = _sdk(tls, iam_token="t1.any-token")
    images = sdk.client(ImageServiceStub)
    listed = images.List(pb.ListImagesRequest(folder_id=FOLDER_A, page_size=2))
    rest = images.List(pb.ListImagesRequest(folder_id=FOLDER_A, page_size=2, page_token=listed.next_page_token))
    assert [i.id for i in [*listed.images, *rest.images]] == sorted(i.id for i in tls.images_a)
    target = tls.images_a[1]
    assert images.Get(pb.GetImageRequest(image_id=target.id)).digest == target.digest
    operation = images.Delete(pb.DeleteImageRequest(image_id=target.id))
    # Raises OperationError unless the polled operation is done without an error.
    result = sdk.wait_operation_and_get_result(operation, meta_type=pb.DeleteImageMetadata)
    assert result.meta.image_id == target.id
    assert operation.response.Unpack(empty_pb2.Empty())
    assert target.id not in tls.images
    # wait_operation polls OperationService through the discovered "operation" endpoint.
    assert sdk.client(OperationServiceStub).Get(operation_pb.GetOperationRequest(operation_id=operation.id)).done
    assert_exercised("python", "list, get, delete and wait", tls.calls)


@pytest.mark.behaviour(
    "IamTokenService/Create",
    "documented",
    "The SDK given an OAuth token trades it for an IAM token and calls with that.",
    "https://github.com/yandex-cloud/python-sdk/blob/master/yandexcloud/_auth_fabric.py (CreateIamTokenRequest(yandex_passport_oauth_token=...))",
)
def test_an_oauth_token_is_exchanged_through_iam(tls):
    tls.configure_auth("strict", {"y0_oauth-token": [FOLDER_A]})
    images = _sdk(tls, token="y0_oauth-token").client(ImageServiceStub)
    assert len(images.List(pb.ListImagesRequest(folder_id=FOLDER_A)).images) == 3
    # The OAuth token itself is not an IAM token; what the SDK sent was one IamTokenService made.
    plain = ImageServiceStub(tls.channel())
    error = rpc_error(
        plain.List, pb.ListImagesRequest(folder_id=FOLDER_B), metadata=(("authorization", "Bearer y0_oauth-token"),)
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert_exercised("python", "an OAuth token traded", tls.calls)


@pytest.mark.behaviour(
    "IamTokenService/Create",
    "documented",
    "An OAuth token or a JWT is traded for an IAM token; an OAuth token over 4000 characters is INVALID_ARGUMENT.",
    "yandex/cloud/iam/v1/iam_token_service.proto",
)
def test_iam_create_issues_a_token_with_an_expiry(tls):
    iam = IamTokenServiceStub(tls.channel())
    before = datetime.now(timezone.utc)
    for request in (
        iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="y0_token"),
        iam_pb.CreateIamTokenRequest(jwt="header.payload.signature"),
    ):
        answer = iam.Create(request)
        assert answer.iam_token
        assert answer.expires_at.ToDatetime(tzinfo=timezone.utc) > before
    assert rpc_error(iam.Create, iam_pb.CreateIamTokenRequest()).code() == grpc.StatusCode.INVALID_ARGUMENT
    too_long = iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="x" * 4001)
    error = rpc_error(iam.Create, too_long)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "yandex_passport_oauth_token" in error.details()
    assert iam.Create(iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="x" * 4000)).iam_token


@pytest.mark.behaviour(
    "ApiEndpointService",
    "choice",
    "Discovery answers container-registry, operation, iam, endpoint and resource-manager with the emulator's address; another id is NOT_FOUND.",
    "the SDKs find every service through it and must reach the emulator for each",
)
def test_endpoint_discovery_points_every_service_here(tls):
    discovery = ApiEndpointServiceStub(tls.channel())
    listed = {e.id: e.address for e in discovery.List(endpoint_pb.ListApiEndpointsRequest()).endpoints}
    assert {"container-registry", "operation", "iam", "endpoint", "resource-manager"} <= set(listed)
    assert set(listed.values()) == {tls.endpoint}
    got = discovery.Get(endpoint_pb.GetApiEndpointRequest(api_endpoint_id="container-registry"))
    assert got.address == tls.endpoint
    error = rpc_error(discovery.Get, endpoint_pb.GetApiEndpointRequest(api_endpoint_id="no-such-service"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_a_client_that_does_not_trust_the_ca_cannot_connect(tls):
    other_ca = Emulator(tls=True).start()
    try:
        untrusting = grpc.secure_channel(tls.endpoint, grpc.ssl_channel_credentials(other_ca.ca_pem))
        error = rpc_error(ImageServiceStub(untrusting).List, pb.ListImagesRequest(folder_id=FOLDER_A), timeout=5)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        plaintext = grpc.insecure_channel(tls.endpoint)
        error = rpc_error(ImageServiceStub(plaintext).List, pb.ListImagesRequest(folder_id=FOLDER_A), timeout=5)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        other_ca.stop()


def _bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        (("authorization", "Basic abc"),),
        (("authorization", "Bearer"),),
        (("authorization", "Bearer a b"),),
        (("authorization", "abc"),),
    ],
    ids=["missing", "basic", "empty", "spaces", "no-scheme"],
)
def test_any_mode_needs_a_well_formed_bearer_token(tls, metadata):
    tls.configure_auth("any")
    images = ImageServiceStub(tls.channel())
    error = rpc_error(images.List, pb.ListImagesRequest(folder_id=FOLDER_A), metadata=metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization" in error.details()
    assert len(images.List(pb.ListImagesRequest(folder_id=FOLDER_B), metadata=_bearer("whatever")).images) == 1


def test_none_mode_ignores_credentials(tls):
    images = ImageServiceStub(tls.channel())
    for metadata in (None, (("authorization", "garbage"),)):
        assert len(images.List(pb.ListImagesRequest(folder_id=FOLDER_A), metadata=metadata).images) == 3


def test_strict_mode_accepts_only_configured_tokens_in_their_folders(tls):
    tls.configure_auth("strict", {"token-a": [FOLDER_A], "admin": None})
    images = ImageServiceStub(tls.channel())
    operations = OperationServiceStub(tls.channel())
    in_b = tls.images_b[0]
    assert rpc_error(images.List, pb.ListImagesRequest(folder_id=FOLDER_A), metadata=_bearer("unknown")).code() == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert rpc_error(images.List, pb.ListImagesRequest(folder_id=FOLDER_A)).code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(images.List(pb.ListImagesRequest(folder_id=FOLDER_A), metadata=_bearer("token-a")).images) == 3
    for call, request in (
        (images.List, pb.ListImagesRequest(folder_id=FOLDER_B)),
        (images.List, pb.ListImagesRequest(registry_id=in_b.registry_id)),
        (images.List, pb.ListImagesRequest(repository_name=in_b.name)),
        (images.Get, pb.GetImageRequest(image_id=in_b.id)),
        (images.Delete, pb.DeleteImageRequest(image_id=in_b.id)),
    ):
        error = rpc_error(call, request, metadata=_bearer("token-a"))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, request
    assert in_b.id in tls.images  # the refused Delete changed nothing
    operation = images.Delete(pb.DeleteImageRequest(image_id=in_b.id), metadata=_bearer("admin"))
    error = rpc_error(
        operations.Get, operation_pb.GetOperationRequest(operation_id=operation.id), metadata=_bearer("token-a")
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert operations.Get(operation_pb.GetOperationRequest(operation_id=operation.id), metadata=_bearer("admin")).done
    # Discovery and IAM need no token in any mode: the SDK calls them without one.
    ApiEndpointServiceStub(tls.channel()).List(endpoint_pb.ListApiEndpointsRequest())
    IamTokenServiceStub(tls.channel()).Create(iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="token-a"))
    # ... but strict IAM does not trade unknown credentials for tokens.
    error = rpc_error(
        IamTokenServiceStub(tls.channel()).Create, iam_pb.CreateIamTokenRequest(yandex_passport_oauth_token="stranger")
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.behaviour(
    "ImageService/Delete",
    "choice",
    "An operation's created_by is the caller's subject: `aje` and 17 characters derived from its token.",
    "production writes the caller's id; the emulator has no accounts to take one from",
)
def test_created_by_is_the_callers_subject(tls):
    tls.configure_auth("any")
    images = ImageServiceStub(tls.channel())
    first = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[0].id), metadata=_bearer("alice"))
    second = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[1].id), metadata=_bearer("bob"))
    assert first.created_by == subject_of("alice") and second.created_by == subject_of("bob")
    assert first.created_by != second.created_by and first.created_by.startswith("aje")


def test_each_response_carries_a_request_id(tls):
    images = ImageServiceStub(tls.channel())
    _, call = images.List.with_call(pb.ListImagesRequest(folder_id=FOLDER_A))
    generated = dict(call.initial_metadata())["x-request-id"]
    assert len(generated) >= 16
    _, call = images.List.with_call(
        pb.ListImagesRequest(folder_id=FOLDER_A), metadata=(("x-client-request-id", "my-request-42"),)
    )
    # The server makes its own id, as production does (tests/test_envelope.py has the rest).
    assert dict(call.initial_metadata())["x-request-id"] not in ("my-request-42", generated)
    try:
        images.Get.with_call(pb.GetImageRequest(image_id="crp00000000000000000"))
    except grpc.RpcError as error:
        assert dict(error.initial_metadata())["x-request-id"]
    else:
        pytest.fail("Get of an unknown image succeeded")


@pytest.mark.behaviour(
    "ImageService/Delete",
    "documented",
    "A call repeated with its idempotency-key answers the first operation and changes nothing.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/idempotency.md (it checks whether an operation with this UUID has already been created. If so, the server returns the Operation object with this operation's current status)",
)
def test_a_delete_repeated_with_the_same_idempotency_key_returns_the_same_operation(tls):
    images = ImageServiceStub(tls.channel())
    target = tls.images_a[0].id
    key = (("idempotency-key", "8d3f3c2e-retry"),)
    first = images.Delete(pb.DeleteImageRequest(image_id=target), metadata=key)
    again = images.Delete(pb.DeleteImageRequest(image_id=target), metadata=key)
    assert again == first
    assert len([o for o in tls.operations.values() if o.metadata["image_id"] == target]) == 1
    error = rpc_error(images.Delete, pb.DeleteImageRequest(image_id=target), metadata=(("idempotency-key", "other"),))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_the_standalone_process_with_tls_and_strict_auth(tmp_path):
    ca_file = tmp_path / "ca.pem"
    command = [
        sys.executable,
        "-m",
        "emulator",
        "--port",
        "0",
        "--tls",
        "--ca-file",
        str(ca_file),
        "--require-token",
        f"ci-token={FOLDER_A}",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        line = process.stdout.readline().strip()
        endpoint = parse_ready_line(line).endpoint
        assert "auth strict" in line
        registry = "crp71hkgiolp6677hg9i"  # the demo data's registry; its folder is not FOLDER_A
        sdk = yandexcloud.SDK(iam_token="ci-token", endpoint=endpoint, root_certificates=ca_file.read_bytes())
        images = sdk.client(ImageServiceStub)
        error = rpc_error(images.List, pb.ListImagesRequest(registry_id=registry))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert images.List(pb.ListImagesRequest(folder_id=FOLDER_A)).images == []
        wrong = yandexcloud.SDK(iam_token="nope", endpoint=endpoint, root_certificates=ca_file.read_bytes())
        error = rpc_error(wrong.client(ImageServiceStub).List, pb.ListImagesRequest(folder_id=FOLDER_A))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_supplied_certificate_and_key(tmp_path):
    import trustme

    ca = trustme.CA()
    certificate = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))
    key_file.write_bytes(certificate.private_key_pem.bytes())
    command = [
        sys.executable,
        "-m",
        "emulator",
        "--port",
        "0",
        "--tls",
        "--cert",
        str(cert_file),
        "--key",
        str(key_file),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        endpoint = parse_ready_line(process.stdout.readline()).endpoint
        sdk = yandexcloud.SDK(iam_token="t1.x", endpoint=endpoint, root_certificates=ca.cert_pem.bytes())
        listed = sdk.client(ImageServiceStub).List(pb.ListImagesRequest(folder_id="b1g0000000000000demo"))
        assert listed.images
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cert_without_key_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--tls", "--cert", str(tmp_path / "c.pem")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--cert and --key go together" in result.stderr


def test_an_operations_folder_outlives_a_state_round_trip(tls):
    from emulator.state.seed import export_state

    tls.configure_auth("strict", {"owner": None, "other": [FOLDER_B]})
    operation = ImageServiceStub(tls.channel()).Delete(
        pb.DeleteImageRequest(image_id=tls.images_a[0].id), metadata=_bearer("owner")
    )
    with Emulator(auth="strict", tokens={"owner": None, "other": [FOLDER_B]}) as restarted:
        restarted.load_seed(export_state(tls.store))
        operations = OperationServiceStub(restarted.channel())
        request = operation_pb.GetOperationRequest(operation_id=operation.id)
        error = rpc_error(operations.Get, request, metadata=_bearer("other"))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert operations.Get(request, metadata=_bearer("owner")) == operation


def test_any_mode_ignores_folder_limits(tls):
    tls.configure_auth("any", {"limited": [FOLDER_A]})
    images = ImageServiceStub(tls.channel())
    assert len(images.List(pb.ListImagesRequest(folder_id=FOLDER_B), metadata=_bearer("limited")).images) == 1


@pytest.mark.behaviour(
    "ImageService/Delete",
    "documented",
    "The same idempotency-key with another request answers the first request's operation and does nothing else.",
    "https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/idempotency.md (it checks whether an operation with this UUID has already been created. If so, the server returns the Operation object with this operation's current status)",
)
def test_an_idempotency_key_reused_for_another_image_answers_the_first_operation(tls, caplog):
    """As the API design guide says, so a tool that reuses a key sees in its tests what production
    does: the second image is not deleted. The emulator's log says so (a warning)."""
    images = ImageServiceStub(tls.channel())
    key = (("idempotency-key", "k-1"),)
    first = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[0].id), metadata=key)
    with caplog.at_level(logging.WARNING, logger="emulator"):
        again = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[1].id), metadata=key)
    assert again == first
    assert tls.images_a[1].id in tls.images  # nothing else was done
    [warning] = [record.getMessage() for record in caplog.records if "idempotency-key" in record.getMessage()]
    assert warning == (
        f"ImageService/Delete: idempotency-key k-1 was used for another request: answered its operation {first.id}, "
        "as production does (the API design guide), and did nothing else"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls", "--tls-port", "0"], "choose one"),
        (["--ca-file", "ca.pem"], "need --tls or --tls-port"),
    ],
)
def test_contradictory_tls_flags_are_refused(flags, message):
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", *flags], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.behaviour(
    "ImageService/Delete",
    "choice",
    "An idempotency-key is the caller's own and its method's: another caller, or another method, with the same key makes a new operation.",
    "the API design guide speaks of one UUID per operation and says nothing of its scope; a key shared across callers would hand one caller another's operation",
)
def test_an_idempotency_key_belongs_to_its_caller_and_its_method(tls):
    tls.configure_auth("strict", {"one": None, "two": None})
    images = ImageServiceStub(tls.channel())
    key = ("idempotency-key", "shared")
    first = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[0].id), metadata=(*_bearer("one"), key))
    other_caller = images.Delete(pb.DeleteImageRequest(image_id=tls.images_a[1].id), metadata=(*_bearer("two"), key))
    assert other_caller.id != first.id and tls.images_a[1].id not in tls.images  # a new operation: deleted
    registries = RegistryServiceStub(tls.channel())
    created = registries.Create(
        registry_pb.CreateRegistryRequest(folder_id=FOLDER_A, name="keyed"), metadata=(*_bearer("one"), key)
    )
    assert created.id != first.id and any(registry.name == "keyed" for registry in tls.registries.values())
