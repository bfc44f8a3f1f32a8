"""emulator.client: the read-only client the contract tools reach any endpoint with."""

from __future__ import annotations

import argparse
from concurrent import futures

import grpc
import pytest

from emulator import Emulator
from emulator.client import (
    IAM_TOKEN_ENV,
    OAUTH_TOKEN_ENV,
    ClientError,
    RegistryClient,
    add_client_arguments,
    client_options,
)

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
    with RegistryClient(emulator.endpoint, ca_pem=emulator.ca_pem) as client:
        with pytest.raises(grpc.RpcError) as raised:
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
        with pytest.raises(ClientError, match="endpoint discovery failed: UNAVAILABLE"):
            RegistryClient(emulator.endpoint, ca_pem=other.ca_pem, timeout=5)
    finally:
        other.stop()


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
