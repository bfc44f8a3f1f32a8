"""The API catalogue is the one description of the served methods: every served method, walked
through every consumer that used to keep its own table (the server, operation modes, fault rules,
call recording, the contract client, snapshot, diff, comparison, strategies, discovery, health,
reflection), answers as its declaration says. No consumer lists methods by hand."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Emulator
from emulator.api.catalogue import Catalogue, Mutating, Read, Service
from emulator.api.wire import message_class
from emulator.contract import comparison, drawing, sending, strategies
from emulator.contract.client import READ_METHODS, ClientError, RegistryClient
from emulator.contract.reader import Reader
from emulator.rpc.faults import parse_rule
from emulator.rpc.services import CATALOGUE
from emulator.state.operation_modes import parse_modes

METHODS = list(CATALOGUE)
IDS = [method.short for method in METHODS]


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def channel(emulator):
    with emulator.channel() as opened:
        yield opened


def test_the_catalogue_matches_the_descriptors():
    """A method is Mutating exactly when the descriptors mark it as making an operation."""
    wrong = Service("yandex.cloud.containerregistry.v1.ImageService", "container-registry", {"Delete": Read()})
    with pytest.raises(ValueError, match="ImageService/Delete: declared Read, the descriptors disagree"):
        Catalogue([wrong])
    missing = Service("yandex.cloud.containerregistry.v1.ImageService", "container-registry", {"Push": Mutating()})
    with pytest.raises(ValueError, match="no such method"):
        Catalogue([missing])


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_every_method_is_served_and_recorded_under_each_of_its_names(emulator, channel, method):
    emulator.reset()
    call = channel.unary_unary(f"/{method.full}")
    try:
        call(b"", timeout=10)
    except grpc.RpcError as error:  # an empty request: refused by validation or the service, never unserved
        assert error.code() != grpc.StatusCode.UNIMPLEMENTED, error.details()
    for name in (method.full, method.short, method.service.short):
        assert [recorded["method"] for recorded in emulator.calls_of(name)] == [method.full], name


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_operation_modes_take_exactly_the_methods_that_make_operations(method):
    for name in (method.short, method.full):
        if method.mutating:
            assert parse_modes({name: "polls:2"}, CATALOGUE) == parse_modes({method.short: "polls:2"}, CATALOGUE)
        else:
            with pytest.raises(ValueError, match="is not a method that returns an operation"):
                parse_modes({name: "polls:2"}, CATALOGUE)


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_fault_rules_name_every_method_and_operation_errors_only_deferred_ones(method):
    for name in (method.short, method.full):
        assert parse_rule({"method": name, "code": "UNAVAILABLE"}, "f", CATALOGUE).method == method.full
    rule = {"method": method.short, "operation_error": {"code": "INTERNAL"}}
    if method.deferred:
        assert parse_rule(rule, "f", CATALOGUE).operation_error == ("INTERNAL", "injected fault")
    else:
        with pytest.raises(ValueError, match="operation_error: applies to the methods"):
            parse_rule(rule, "f", CATALOGUE)


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_the_contract_tools_send_only_reads(emulator, method):
    with RegistryClient(emulator.endpoint, plaintext=True, timeout=10) as client:
        request = client.request(method.short)  # building a request sends nothing
        assert type(request).DESCRIPTOR.full_name == method.request_type
        if method.read and method.service.short != "ApiEndpointService":
            assert method.short in READ_METHODS
        else:
            assert method.short not in READ_METHODS
            with pytest.raises(ClientError, match="not a read"):
                client.call(method.short)
    if method.read:
        Reader._check(method.short)
    else:
        with pytest.raises(ValueError, match="a snapshot only reads"):
            Reader._check(method.short)


def test_diff_comparison_and_strategies_cover_every_list_and_get():
    lists = {method.short for method in CATALOGUE.lists}
    gets = {method.short for method in CATALOGUE.gets}
    assert lists and gets
    assert sending.READ_METHODS == lists | gets | set(sending.DISCOVERY_READS)  # and what finds scan policy ids
    assert set(comparison.LISTED) == set(comparison.OBSERVABLE_ORDER_FIELDS) == lists
    assert set(comparison.GOTTEN) == gets
    assert set(strategies.LIST_METHODS) == lists and set(strategies.GET_METHODS) == gets
    from emulator.contract.strategies.cloud import BUILDERS
    from emulator.contract.strategies.requests import _SEEDED_LISTS

    assert set(_SEEDED_LISTS) | set(BUILDERS) == lists  # every List can be drawn from a seed (requests_for)
    assert set(drawing.DRAWN_LISTS) == lists  # and by ycr-emulator diff
    for method in CATALOGUE.lists:
        response = message_class(method.response_type)
        assert response.DESCRIPTOR.fields_by_name[method.lists].is_repeated
        assert comparison.SINGULAR[method.short].endswith(  # lifecycle_policy: Get names it policy
            comparison.GOTTEN.get(method.short.replace("List", "Get"), method.resource)
        )


@settings(max_examples=20)
@given(data=st.data())
def test_strategies_draw_requests_of_every_list_and_get(data):
    method = data.draw(st.sampled_from([*CATALOGUE.lists, *CATALOGUE.gets]), label="method")
    drawn = data.draw(
        strategies.requests_for({"registries": []}, method.short)
        if method.lists
        else strategies.get_requests(method.short)
    )
    if method.gets:
        assert set(drawn) == {method.gets}
    message_class(method.request_type)(**drawn)  # every drawn field is one of its request's


def test_discovery_health_and_reflection_follow_the_catalogue(emulator, channel):
    endpoints = message_class("yandex.cloud.endpoint.ListApiEndpointsResponse").FromString(
        channel.unary_unary("/yandex.cloud.endpoint.ApiEndpointService/List")(b"", timeout=10)
    )
    listed = {endpoint.id for endpoint in endpoints.endpoints}
    assert set(CATALOGUE.endpoints) <= listed
    health = health_pb2_grpc.HealthStub(channel)
    for service in CATALOGUE.services:
        status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    unserved = channel.unary_unary("/yandex.cloud.containerregistry.v1.ImageService/Push")
    with pytest.raises(grpc.RpcError) as raised:
        unserved(b"", timeout=10)
    service = CATALOGUE.service("ImageService")
    assert raised.value.details().endswith(f"serves: {', '.join(sorted(service.methods))}")


def test_a_method_acting_on_a_kind_the_state_does_not_know_is_refused_at_import():
    """Found by review: on="resource_id" means a 'resource', which no folder lookup knows; every
    call would have answered INTERNAL."""
    import pytest

    from emulator.api.catalogue import Catalogue, Mutating, Read, Service

    service = Service(
        "yandex.cloud.containerregistry.v1.RepositoryService",
        endpoint="container-registry",
        methods_declared={"ListAccessBindings": Read(on="resource_id"), "Delete": Mutating(on="repository_id")},
    )
    with pytest.raises(ValueError, match="ListAccessBindings: acts on a 'resource'"):
        Catalogue([service])


def test_cloud_registry_services_are_named_apart_from_container_registry_ones():
    """Cloud Registry reuses Container Registry's service names: ``RegistryService`` keeps meaning
    Container Registry's (as every rule and marker written before meant), and
    ``cloudregistry.RegistryService`` Cloud Registry's."""
    old = Service(
        "yandex.cloud.containerregistry.v1.RegistryService", "container-registry", {"Get": Read(gets="registry_id")}
    )
    new = Service("yandex.cloud.cloudregistry.v1.RegistryService", "cloud-registry", {"Get": Read(gets="registry_id")})
    catalogue = Catalogue([old, new])
    assert new.short == "cloudregistry.RegistryService" and old.short == "RegistryService"
    assert catalogue.method("RegistryService/Get").full == "yandex.cloud.containerregistry.v1.RegistryService/Get"
    assert (
        catalogue.method("cloudregistry.RegistryService/Get").full
        == "yandex.cloud.cloudregistry.v1.RegistryService/Get"
    )
    assert catalogue.answers_to(new.methods["Get"].full) >= {"cloudregistry.RegistryService/Get", "Get"}
