"""emulator.contract.client: the read-only client the contract tools reach any endpoint with."""

from __future__ import annotations

import argparse
import os
from concurrent import futures

import grpc
import pytest

from emulator import Emulator
from emulator.contract.client import (
    IAM_TOKEN_ENV,
    OAUTH_TOKEN_ENV,
    READ_METHODS,
    ClientError,
    RegistryClient,
    add_client_arguments,
    check_text,
    client_options,
)
from emulator.rpc.tls import generated

FOLDER = "b1g00000000000client"
TOKEN = "t1.client-token"


@pytest.fixture(scope="module")
def strict():
    emulator = Emulator(tls=True, auth="strict", tokens={TOKEN: None}).start()
    registry = emulator.add_registry(FOLDER, name="client")
    for n in range(5):
        emulator.add_image(registry.id, "team/app", tags=[f"v{n}"])
    yield emulator, registry
    emulator.stop()


def test_it_discovers_the_services_and_pages_through_a_list(strict):
    emulator, registry = strict
    with RegistryClient(emulator.endpoint, ca_pem=emulator.ca_pem, iam_token=TOKEN) as client:
        assert client.addresses["container-registry"] == emulator.endpoint
        pages = list(client.pages("ImageService/List", page_size=2, registry_id=registry.id))
        assert [len(page.images) for page in pages] == [2, 2, 1]
        assert client.call("RegistryService/Get", registry_id=registry.id).name == "client"


def test_without_a_token_strict_auth_refuses_it(strict):
    emulator, registry = strict
    with RegistryClient(emulator.endpoint, ca_pem=emulator.ca_pem) as client, pytest.raises(grpc.RpcError) as raised:
        client.call("RegistryService/Get", registry_id=registry.id)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_an_oauth_token_is_exchanged_for_an_iam_token():
    # auth "any" answers UNAUTHENTICATED to a call without a Bearer token.
    emulator = Emulator(tls=True, auth="any").start()
    try:
        with RegistryClient(emulator.endpoint, ca_pem=emulator.ca_pem, oauth_token="y0_client") as client:
            assert client.call("RegistryService/List", folder_id=FOLDER).registries == []
        exchanged = emulator.calls_of("IamTokenService/Create")
        assert [call["request"] for call in exchanged] == [{"yandex_passport_oauth_token": "y0_client"}]
    finally:
        emulator.stop()


def test_an_endpoint_without_discovery_serves_everything():
    # A real gRPC server with no services: discovery is UNIMPLEMENTED there, so the client
    # sends every call to it (and gets UNIMPLEMENTED back, which the caller sees as it is).
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with RegistryClient(f"127.0.0.1:{port}", plaintext=True) as client:
            assert client.addresses == {}
            with pytest.raises(grpc.RpcError) as raised:
                client.call("ImageService/Get", image_id="crp00000000000000000")
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        server.stop(None)


def test_plaintext_reaches_an_emulator_that_also_serves_tls():
    # Its discovery names the TLS port; a plaintext client stays on the port it was given.
    emulator = Emulator(tls_port=0).start()
    try:
        assert emulator.tls_endpoint != emulator.endpoint
        with RegistryClient(emulator.endpoint, plaintext=True) as client:
            assert client.call("RegistryService/List", folder_id=FOLDER).registries == []
    finally:
        emulator.stop()


def test_the_wrong_ca_is_a_clear_setup_error(strict, tmp_path):
    emulator, _ = strict
    other = Emulator(tls=True).start()
    try:
        with pytest.raises(ClientError) as raised:
            RegistryClient(emulator.endpoint, ca_pem=other.ca_pem, timeout=5, ca_source="--ca-file other.pem")
        assert str(raised.value) == (
            f"cannot reach {emulator.endpoint} over TLS: the certificate is not trusted by --ca-file other.pem"
        )
        with pytest.raises(ClientError) as raised:
            RegistryClient(emulator.endpoint, timeout=5)  # the system roots do not hold the emulator's CA
        assert str(raised.value) == (
            f"cannot reach {emulator.endpoint} over TLS: the certificate is not trusted by the system roots"
            " (a private CA, such as an emulator's, needs --ca-file)"
        )
    finally:
        other.stop()


def test_other_tls_failures_are_said_in_words_without_grpcs_trailing_ok():
    # A server whose certificate names another host, a server without TLS, and no server at all.
    material = generated(("other.example",))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_secure_port("127.0.0.1:0", material.server_credentials())
    server.start()
    plain = Emulator().start()
    try:
        with pytest.raises(ClientError) as raised:
            RegistryClient(f"localhost:{port}", ca_pem=material.ca_pem, timeout=5)
        assert str(raised.value) == f"cannot reach localhost:{port} over TLS: the certificate is not for localhost"
        with pytest.raises(ClientError) as raised:
            RegistryClient(plain.endpoint, ca_pem=plain.ca_pem or material.ca_pem, timeout=5)
        assert str(raised.value) == (
            f"cannot reach {plain.endpoint} over TLS: it does not answer TLS"
            " (an emulator started without --tls takes --plaintext)"
        )
    finally:
        server.stop(None)
        plain.stop()
    with pytest.raises(ClientError) as raised:  # the port is free now: connection refused
        RegistryClient(f"127.0.0.1:{port}", ca_pem=material.ca_pem, timeout=5)
    message = str(raised.value)
    assert message.startswith(f"127.0.0.1:{port}: endpoint discovery failed: UNAVAILABLE: ") and not message.endswith(
        "OK"
    ), message


@pytest.mark.parametrize(
    ("endpoint", "options", "message"),
    [
        ("localhost", {}, "HOST:PORT"),
        ("localhost:port", {}, "HOST:PORT"),
        ("localhost:1", {"iam_token": "a", "oauth_token": "b"}, "not both"),
        ("localhost:1", {"plaintext": True, "ca_pem": b"x"}, "cannot go with plaintext"),
    ],
)
def test_bad_settings_are_refused_before_any_call(endpoint, options, message):
    with pytest.raises(ClientError, match=message):
        RegistryClient(endpoint, **options)


def _options(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser()
    add_client_arguments(parser)
    return client_options(parser.parse_args(argv))


def test_flags_win_over_the_environment_and_one_token_kind_is_chosen(monkeypatch, tmp_path):
    monkeypatch.setenv(IAM_TOKEN_ENV, "t1.from-env")
    monkeypatch.setenv(OAUTH_TOKEN_ENV, "y0_from-env")
    assert (_options([])["iam_token"], _options([])["oauth_token"]) == ("t1.from-env", None)
    flagged = _options(["--oauth-token", "y0_flag"])
    assert (flagged["iam_token"], flagged["oauth_token"]) == (None, "y0_flag")
    monkeypatch.delenv(IAM_TOKEN_ENV)
    assert _options([])["oauth_token"] == "y0_from-env"
    assert _options(["--token", "t1.flag"])["iam_token"] == "t1.flag"


def test_an_unreadable_or_empty_ca_file_is_named(tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate")
    with pytest.raises(ClientError, match="holds no PEM certificate"):
        _options(["--ca-file", str(empty)])
    with pytest.raises(ClientError, match="cannot read"):
        _options(["--ca-file", str(tmp_path / "missing.pem")])
    with pytest.raises(ClientError, match="--timeout"):
        _options(["--timeout", "0"])


# ---- retries ---------------------------------------------------------------------------------------


@pytest.fixture
def plain():
    """A plaintext emulator of this test's own: its fault rules and recorded calls are this test's."""
    with Emulator() as emulator:
        yield emulator


def _codes(emulator, method: str) -> list[str]:
    return [call["code"] for call in emulator.calls_of(method)]


def test_unavailable_and_resource_exhausted_are_retried(plain):
    # What the official SDKs retry (yandexcloud's RetryInterceptor defaults): reads are safe to repeat.
    with (
        plain.add_fault(method="RegistryService/List", code="UNAVAILABLE", count=2),
        plain.add_fault(method="RegistryService/List", code="RESOURCE_EXHAUSTED", count=1),
        RegistryClient(plain.endpoint, plaintext=True) as client,
    ):
        assert client.call("RegistryService/List", folder_id=FOLDER).registries == []
    assert _codes(plain, "RegistryService/List") == ["UNAVAILABLE", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "OK"]


@pytest.mark.parametrize(
    ("retries", "code", "sent"), [(2, "UNAVAILABLE", 3), (0, "UNAVAILABLE", 1), (3, "INTERNAL", 1)]
)
def test_retries_are_bounded_and_only_for_temporary_failures(plain, retries, code, sent):
    with (
        plain.add_fault(method="RegistryService/List", code=code),
        RegistryClient(plain.endpoint, plaintext=True, retries=retries) as client,
        pytest.raises(grpc.RpcError) as raised,
    ):
        client.call("RegistryService/List", folder_id=FOLDER)
    assert raised.value.code().name == code
    assert _codes(plain, "RegistryService/List") == [code] * sent


def test_discovery_is_retried_too():
    emulator = Emulator(tls=True).start()
    try:
        with (
            emulator.add_fault(method="ApiEndpointService/List", code="UNAVAILABLE", count=1),
            RegistryClient(emulator.endpoint, ca_pem=emulator.ca_pem) as client,
        ):
            assert client.addresses["container-registry"] == emulator.endpoint
        assert _codes(emulator, "ApiEndpointService/List") == ["UNAVAILABLE", "OK"]
    finally:
        emulator.stop()


# ---- it only reads ---------------------------------------------------------------------------------


def test_only_reads_are_sent(plain):
    registry = plain.add_registry(FOLDER)
    image = plain.add_image(registry.id, "app")
    writes = [
        ("ImageService/Delete", {"image_id": image.id}),
        ("RegistryService/Delete", {"registry_id": registry.id}),
        ("RegistryService/SetIpPermission", {"registry_id": registry.id}),
        ("RepositoryService/Upsert", {"name": f"{registry.id}/new"}),
        ("OperationService/Cancel", {"operation_id": "crp00000000000000000"}),
        ("IamTokenService/Revoke", {}),
        ("cloudregistry.MigrationService/StartFolder", {"folder_id": FOLDER}),
    ]
    with RegistryClient(plain.endpoint, plaintext=True) as client:
        for method, fields in writes:
            with pytest.raises(ClientError, match=f"^{method}: not a read"):
                client.call(method, **fields)
            with pytest.raises(ClientError, match="not a read"):
                client.call(method, client.request(method, **fields))  # building one is fine: it sends nothing
        with pytest.raises(ClientError, match="has no method 'Nope'"):
            client.call("ImageService/Nope")
        assert client.call("ImageService/Get", image_id=image.id).id == image.id
    assert [call["method"].rpartition(".")[2] for call in plain.calls] == ["ImageService/Get"]
    assert list(plain.images) == [image.id]
    assert {method.rpartition("/")[2] for method in READ_METHODS} == {
        "List", "Get", "GetByName", "ListAccessBindings", "ListIpPermission", "Create",  # Create: IamTokenService's
        "GetDryRunResult", "ListDryRunResults", "ListDryRunResultAffectedImages", "GetLast", "ListVulnerabilities",
        "GetByRegistry", "GetByPath", "ListIpPermissions", "ListArtifacts", "ListDryRunArtifacts",
        "GetFolderMigrationStatusDashboard", "GetCloudMigrationStatusDashboard",
    }  # fmt: skip
    assert [m for m in READ_METHODS if m.endswith("/Create")] == ["IamTokenService/Create"]


# ---- values that cannot be sent ------------------------------------------------------------------


NOT_UTF8 = os.fsdecode(b"b1g\xff")  # how a command line's non-UTF-8 argument reaches Python


def test_text_that_is_not_utf8_is_named_and_not_sent(plain):
    with pytest.raises(ClientError, match="^--folder-id: not valid UTF-8 text$"):
        check_text("--folder-id", NOT_UTF8)
    assert check_text("--folder-id", "b1gzürich") == "b1gzürich"
    with (
        RegistryClient(plain.endpoint, plaintext=True) as client,
        pytest.raises(ClientError, match="^folder_id: not valid UTF-8 text$"),
    ):
        client.call("RegistryService/List", folder_id=NOT_UTF8)
    assert plain.calls == []
    with pytest.raises(ClientError, match="^endpoint: not valid UTF-8"):
        RegistryClient(f"{NOT_UTF8}:1", plaintext=True)


@pytest.mark.parametrize("token", ["t1.é", "t1 x", "t1.x\n", NOT_UTF8])
def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(monkeypatch, token):
    with pytest.raises(ClientError, match="^iam_token: holds a character no token has") as raised:
        RegistryClient("localhost:1", plaintext=True, iam_token=token)
    assert token not in str(raised.value)
    with pytest.raises(ClientError, match="^--oauth-token: "):
        _options(["--oauth-token", token])
    monkeypatch.setenv(IAM_TOKEN_ENV, token)
    with pytest.raises(ClientError, match=r"^\$YCR_IAM_TOKEN: "):
        _options([])


# ---- flags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300", "3600.5", "0", "-1"])
def test_a_timeout_must_be_a_finite_number_up_to_an_hour(value):
    with pytest.raises(ClientError, match="^--timeout: must be more than 0 and at most 3600 seconds, got "):
        _options([f"--timeout={value}"])
    with pytest.raises(ClientError, match="^timeout: "):
        RegistryClient("localhost:1", plaintext=True, timeout=float(value))


def test_retries_default_to_three_and_are_bounded():
    assert (_options([])["retries"], _options(["--timeout", "3600"])["timeout"]) == (3, 3600.0)
    assert _options(["--retries", "0"])["retries"] == 0
    for value in ("-1", "11"):
        with pytest.raises(ClientError, match=f"^--retries: must be 0 to 10, got {value}$"):
            _options([f"--retries={value}"])
    with pytest.raises(ClientError, match="^retries: "):
        RegistryClient("localhost:1", plaintext=True, retries=-1)
