"""The emulator's own descriptors against the official SDK's, the committed descriptor
set against its .proto sources, and the private descriptor pool in both import orders."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, text_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from yandex.cloud import validation_pb2
from yandex.cloud.access import access_pb2
from yandex.cloud.containerregistry.v1 import (
    blob_pb2,
    image_pb2,
    image_service_pb2,
    ip_permission_pb2,
    registry_pb2,
    registry_service_pb2,
    repository_pb2,
    repository_service_pb2,
)
from yandex.cloud.endpoint import api_endpoint_pb2, api_endpoint_service_pb2
from yandex.cloud.iam.v1 import iam_token_service_pb2
from yandex.cloud.operation import operation_pb2, operation_service_pb2

from emulator.api import wire
from emulator.proto import compile as proto_compile
from emulator.rpc.services import CATALOGUE

CR = "yandex.cloud.containerregistry.v1"
OP = "yandex.cloud.operation"
ACCESS = "yandex.cloud.access"

# Every message the emulator serves, with the SDK's descriptor for it.
SDK_MESSAGES = {
    f"{CR}.ListImagesRequest": image_service_pb2.ListImagesRequest.DESCRIPTOR,
    f"{CR}.ListImagesResponse": image_service_pb2.ListImagesResponse.DESCRIPTOR,
    f"{CR}.GetImageRequest": image_service_pb2.GetImageRequest.DESCRIPTOR,
    f"{CR}.DeleteImageRequest": image_service_pb2.DeleteImageRequest.DESCRIPTOR,
    f"{CR}.DeleteImageMetadata": image_service_pb2.DeleteImageMetadata.DESCRIPTOR,
    f"{CR}.Image": image_pb2.Image.DESCRIPTOR,
    f"{CR}.Blob": blob_pb2.Blob.DESCRIPTOR,
    f"{OP}.Operation": operation_pb2.Operation.DESCRIPTOR,
    f"{OP}.GetOperationRequest": operation_service_pb2.GetOperationRequest.DESCRIPTOR,
    "yandex.cloud.endpoint.ApiEndpoint": api_endpoint_pb2.ApiEndpoint.DESCRIPTOR,
    "yandex.cloud.endpoint.GetApiEndpointRequest": api_endpoint_service_pb2.GetApiEndpointRequest.DESCRIPTOR,
    "yandex.cloud.endpoint.ListApiEndpointsRequest": api_endpoint_service_pb2.ListApiEndpointsRequest.DESCRIPTOR,
    "yandex.cloud.endpoint.ListApiEndpointsResponse": api_endpoint_service_pb2.ListApiEndpointsResponse.DESCRIPTOR,
    "yandex.cloud.iam.v1.CreateIamTokenRequest": iam_token_service_pb2.CreateIamTokenRequest.DESCRIPTOR,
    "yandex.cloud.iam.v1.CreateIamTokenResponse": iam_token_service_pb2.CreateIamTokenResponse.DESCRIPTOR,
    # RegistryService and RepositoryService: every message of their files, and of the files they import.
    **{
        message.full_name: message
        for module in (
            registry_pb2,
            registry_service_pb2,
            ip_permission_pb2,
            repository_pb2,
            repository_service_pb2,
            access_pb2,
        )
        for message in module.DESCRIPTOR.message_types_by_name.values()
    },
}
REQUESTS = [
    f"{CR}.ListImagesRequest",
    f"{CR}.GetImageRequest",
    f"{CR}.DeleteImageRequest",
    f"{OP}.GetOperationRequest",
    f"{CR}.GetRegistryRequest",
    f"{CR}.ListRegistriesRequest",
    f"{CR}.CreateRegistryRequest",
    f"{CR}.UpdateRegistryRequest",
    f"{CR}.DeleteRegistryRequest",
    f"{CR}.ListIpPermissionRequest",
    f"{CR}.SetIpPermissionRequest",
    f"{CR}.UpdateIpPermissionRequest",
    f"{CR}.GetRepositoryRequest",
    f"{CR}.GetRepositoryByNameRequest",
    f"{CR}.ListRepositoriesRequest",
    f"{CR}.UpsertRepositoryRequest",
    f"{CR}.DeleteRepositoryRequest",
    f"{ACCESS}.ListAccessBindingsRequest",
    f"{ACCESS}.SetAccessBindingsRequest",
    f"{ACCESS}.UpdateAccessBindingsRequest",
    # Messages inside requests, validated with them.
    f"{CR}.IpPermission",
    f"{CR}.IpPermissionDelta",
    f"{ACCESS}.AccessBinding",
    f"{ACCESS}.AccessBindingDelta",
    f"{ACCESS}.Subject",
]


def _sdk_service(full_name: str):
    """The official SDK's descriptor of a service, from the generated module of its .proto file."""
    file_name = wire.POOL.FindServiceByName(full_name).file.name
    module = importlib.import_module(file_name.removesuffix(".proto").replace("/", ".") + "_pb2")
    return module.DESCRIPTOR.services_by_name[full_name.rpartition(".")[2]]


# Every service the emulator serves (the catalogue's), and the methods it serves of each: each must
# exist on both sides with equal types (RegistryService.ForceDelete: declared by the SDK, not by the
# public .proto files).
SDK_SERVICES = {full_name: _sdk_service(full_name) for full_name in CATALOGUE.services}
SERVED_METHODS = {full_name: set(service.methods) for full_name, service in CATALOGUE.services.items()}
# Every enum the messages above use, nested or not.
SDK_ENUMS: dict[str, EnumDescriptor] = {
    enum.full_name: enum
    for message in SDK_MESSAGES.values()
    for enum in [*message.enum_types, *(f.enum_type for f in message.fields if f.enum_type)]
}
# Every option of yandex/cloud/validation.proto that extends FieldOptions.
FIELD_ANNOTATIONS = sorted(
    name
    for name, extension in validation_pb2.DESCRIPTOR.extensions_by_name.items()
    if extension.containing_type.full_name == "google.protobuf.FieldOptions"
)


def _label(field: FieldDescriptor) -> int:
    """The field's label, read from its proto form (FieldDescriptor.label is deprecated)."""
    parent = descriptor_pb2.DescriptorProto()
    field.containing_type.CopyToProto(parent)
    (proto,) = [f for f in parent.field if f.name == field.name]
    return proto.label


def _field_facts(field: FieldDescriptor) -> dict:
    return {
        "name": field.name,
        "number": field.number,
        "type": field.type,
        "label": _label(field),
        "message_type": field.message_type.full_name if field.message_type else None,
        "enum_type": field.enum_type.full_name if field.enum_type else None,
        "oneof": field.containing_oneof.name if field.containing_oneof else None,
        # A map's entry type is generated, so the field's type name alone says nothing of it.
        "map_entry": _map_entry_facts(field.message_type) if field.message_type else None,
    }


def _map_entry_facts(message: Descriptor) -> list[tuple] | None:
    if not message.GetOptions().map_entry:
        return None
    return [
        (f.name, f.number, f.type, getattr(f.message_type or f.enum_type, "full_name", None)) for f in message.fields
    ]


def _method_options(method: MethodDescriptor) -> Message:
    """A method's options (google.api.http, yandex.cloud.api.operation) read by one class, whichever pool."""
    return wire.message_class("google.protobuf.MethodOptions").FromString(method.GetOptions().SerializeToString())


def _sdk_option(field: FieldDescriptor, name: str):
    options = field.GetOptions()
    extension = validation_pb2.DESCRIPTOR.extensions_by_name[name]
    return options.Extensions[extension] if options.HasExtension(extension) else None


# ---- descriptors against the SDK -----------------------------------------------------


@pytest.mark.parametrize("full_name", sorted(SDK_MESSAGES))
def test_message_matches_sdk(full_name):
    sdk = SDK_MESSAGES[full_name]
    ours = wire.POOL.FindMessageTypeByName(full_name)
    assert ours.full_name == sdk.full_name == full_name
    assert ours.file.name == sdk.file.name
    assert ours.file.package == sdk.file.package
    assert sorted(f.name for f in ours.fields) == sorted(f.name for f in sdk.fields)
    assert sorted(f.number for f in ours.fields) == sorted(f.number for f in sdk.fields)
    for sdk_field in sdk.fields:
        our_field = ours.fields_by_name[sdk_field.name]
        assert _field_facts(our_field) == _field_facts(sdk_field), f"{full_name}.{sdk_field.name}"
    assert sorted(o.name for o in ours.oneofs) == sorted(o.name for o in sdk.oneofs)
    for sdk_oneof in sdk.oneofs:
        assert sorted(f.name for f in ours.oneofs_by_name[sdk_oneof.name].fields) == sorted(
            f.name for f in sdk_oneof.fields
        )


@pytest.mark.parametrize("full_name", sorted(SDK_ENUMS))
def test_enum_matches_sdk(full_name):
    sdk = SDK_ENUMS[full_name]
    ours = wire.POOL.FindEnumTypeByName(full_name)
    assert ours.file.name == sdk.file.name
    assert [(v.name, v.number) for v in ours.values] == [(v.name, v.number) for v in sdk.values]


def test_enums_are_collected():
    """Guards the enum comparison against an empty table."""
    assert {
        f"{CR}.Registry.Status",
        f"{CR}.IpPermission.Action",
        f"{CR}.IpPermissionAction",
        f"{ACCESS}.AccessBindingAction",
    } <= set(SDK_ENUMS)


@pytest.mark.parametrize("full_name", sorted(SDK_MESSAGES))
def test_validation_annotations_match_sdk(full_name):
    sdk = SDK_MESSAGES[full_name]
    ours = wire.POOL.FindMessageTypeByName(full_name)
    for sdk_field in sdk.fields:
        our_field = ours.fields_by_name[sdk_field.name]
        for annotation in FIELD_ANNOTATIONS:
            if annotation == "map_key":
                # A message-valued option: compare its serialized form.
                theirs, mine = _sdk_option(sdk_field, annotation), wire.field_option(our_field, annotation)
                theirs = theirs.SerializeToString() if theirs is not None else None
                mine = mine.SerializeToString() if mine is not None else None
            else:
                theirs, mine = _sdk_option(sdk_field, annotation), wire.field_option(our_field, annotation)
            assert mine == theirs, f"{full_name}.{sdk_field.name}: ({annotation}) {mine!r} != {theirs!r}"
    for sdk_oneof in sdk.oneofs:
        extension = validation_pb2.exactly_one
        options = sdk_oneof.GetOptions()
        theirs = options.Extensions[extension] if options.HasExtension(extension) else None
        assert wire.oneof_option(ours.oneofs_by_name[sdk_oneof.name], "exactly_one") == theirs


REQUIRED_ID = {"required": True, "length": "<=50"}
REGISTRY_ID_REQUESTS = [
    "GetRegistryRequest",
    "UpdateRegistryRequest",
    "DeleteRegistryRequest",
    "ListIpPermissionRequest",
    "SetIpPermissionRequest",
    "UpdateIpPermissionRequest",
]
ACCESS_REQUESTS = ["ListAccessBindingsRequest", "SetAccessBindingsRequest", "UpdateAccessBindingsRequest"]
REPOSITORY_NAME = "[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))*"
LABELS = {
    "size": "<=64",
    "length": "<=63",
    "pattern": "[-_0-9a-z]*",
    "map_key": {"length": "1-63", "pattern": "[a-z][-_0-9a-z]*"},
}


def _annotations(field: FieldDescriptor, read) -> dict:
    """The field's validation annotations as plain values (a MapKeySpec as a dict of its set fields)."""
    found = {}
    for name in FIELD_ANNOTATIONS:
        value = read(field, name)
        if value is not None:
            found[name] = {f.name: v for f, v in value.ListFields()} if name == "map_key" else value
    return found


def test_request_annotations_are_really_read():
    """Guards the comparison above against passing because both sides read nothing."""
    expected = {
        (f"{CR}.GetImageRequest", "image_id"): {"required": True, "length": "<=50"},
        (f"{CR}.DeleteImageRequest", "image_id"): {"required": True, "length": "<=50"},
        (f"{CR}.ListImagesRequest", "registry_id"): {"length": "<=50"},
        (f"{CR}.ListImagesRequest", "folder_id"): {"length": "<=50"},
        (f"{CR}.ListImagesRequest", "page_size"): {"value": "<=1000"},
        (f"{CR}.ListImagesRequest", "page_token"): {"length": "<=100"},
        (f"{CR}.ListImagesRequest", "filter"): {"length": "<=1000"},
        (f"{CR}.ListImagesRequest", "order_by"): {"length": "<=100"},
        (f"{CR}.ListImagesRequest", "repository_name"): {
            "pattern": "|[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))*"
        },
        (f"{OP}.GetOperationRequest", "operation_id"): {"required": True},
        **{(f"{CR}.{request}", "registry_id"): REQUIRED_ID for request in REGISTRY_ID_REQUESTS},
        (f"{CR}.ListRegistriesRequest", "folder_id"): REQUIRED_ID,
        (f"{CR}.ListRegistriesRequest", "page_size"): {"value": "<=1000"},
        (f"{CR}.ListRegistriesRequest", "page_token"): {"length": "<=100"},
        (f"{CR}.ListRegistriesRequest", "filter"): {"length": "<=1000"},
        (f"{CR}.CreateRegistryRequest", "folder_id"): REQUIRED_ID,
        (f"{CR}.CreateRegistryRequest", "name"): {"pattern": "|[a-z][-a-z0-9]{1,61}[a-z0-9]"},
        (f"{CR}.CreateRegistryRequest", "labels"): LABELS,
        (f"{CR}.CreateRegistryRequest", "secure"): {},
        (f"{CR}.UpdateRegistryRequest", "update_mask"): {},
        (f"{CR}.UpdateRegistryRequest", "name"): {"pattern": "|[a-z][-a-z0-9]{1,61}[a-z0-9]"},
        (f"{CR}.UpdateRegistryRequest", "labels"): LABELS,
        (f"{CR}.SetIpPermissionRequest", "ip_permission"): {},
        (f"{CR}.UpdateIpPermissionRequest", "ip_permission_deltas"): {"size": ">0"},
        (f"{CR}.IpPermission", "action"): {"required": True},
        (f"{CR}.IpPermission", "ip"): {
            "pattern": "^((([0-9]{1,3}.){3}[0-9]{1,3})|([a-fA-F0-9]+:[a-fA-F0-9:]*))(\\/[1-9]+[0-9]*)?$"
        },
        (f"{CR}.IpPermissionDelta", "action"): {"required": True},
        (f"{CR}.IpPermissionDelta", "ip_permission"): {"required": True},
        (f"{CR}.GetRepositoryRequest", "repository_id"): REQUIRED_ID,
        (f"{CR}.DeleteRepositoryRequest", "repository_id"): REQUIRED_ID,
        (f"{CR}.GetRepositoryByNameRequest", "repository_name"): {"required": True, "pattern": REPOSITORY_NAME},
        (f"{CR}.UpsertRepositoryRequest", "name"): {"required": True, "pattern": REPOSITORY_NAME},
        (f"{CR}.ListRepositoriesRequest", "registry_id"): {"length": "<=50"},
        (f"{CR}.ListRepositoriesRequest", "folder_id"): {"length": "<=50"},
        (f"{CR}.ListRepositoriesRequest", "page_size"): {"value": "<=1000"},
        (f"{CR}.ListRepositoriesRequest", "page_token"): {"length": "<=100"},
        (f"{CR}.ListRepositoriesRequest", "filter"): {"length": "<=1000"},
        (f"{CR}.ListRepositoriesRequest", "order_by"): {"length": "<=100"},
        **{(f"{ACCESS}.{request}", "resource_id"): {"required": True, "length": "<=64"} for request in ACCESS_REQUESTS},
        (f"{ACCESS}.ListAccessBindingsRequest", "page_size"): {"value": "0-1000"},
        # The SDK's descriptors say <=2000; the public access.proto says <=100. The SDK is the wire.
        (f"{ACCESS}.ListAccessBindingsRequest", "page_token"): {"length": "<=2000"},
        (f"{ACCESS}.SetAccessBindingsRequest", "access_bindings"): {"size": "<=1000"},
        (f"{ACCESS}.UpdateAccessBindingsRequest", "access_binding_deltas"): {"size": "1-1000"},
        (f"{ACCESS}.AccessBinding", "role_id"): {"required": True, "length": "<=64"},
        (f"{ACCESS}.AccessBinding", "subject"): {"required": True},
        (f"{ACCESS}.Subject", "id"): {"required": True, "length": "<=100"},
        (f"{ACCESS}.Subject", "type"): {"required": True, "length": "<=100"},
        (f"{ACCESS}.AccessBindingDelta", "action"): {"required": True},
        (f"{ACCESS}.AccessBindingDelta", "access_binding"): {"required": True},
    }
    for (message, field_name), wanted in expected.items():
        sdk_field = SDK_MESSAGES[message].fields_by_name[field_name]
        our_field = wire.POOL.FindMessageTypeByName(message).fields_by_name[field_name]
        assert _annotations(sdk_field, _sdk_option) == wanted, f"SDK {message}.{field_name}"
        assert _annotations(our_field, wire.field_option) == wanted, f"emulator {message}.{field_name}"
    # Every request field is covered by the table above.
    for message in REQUESTS:
        for field in SDK_MESSAGES[message].fields:
            assert (message, field.name) in expected, f"{message}.{field.name} missing from the table"


@pytest.mark.parametrize("full_name", sorted(SDK_SERVICES))
def test_service_matches_sdk(full_name):
    sdk = SDK_SERVICES[full_name]
    ours = wire.POOL.FindServiceByName(full_name)
    assert ours.full_name == sdk.full_name == full_name
    assert ours.file.name == sdk.file.name
    served = SERVED_METHODS[full_name]
    assert served <= {m.name for m in ours.methods}
    assert served <= {m.name for m in sdk.methods}
    # Whatever the emulator's .proto declares, the SDK declares identically.
    for method in ours.methods:
        assert method.name in sdk.methods_by_name, f"{full_name}.{method.name} is not in the SDK"
        theirs = sdk.methods_by_name[method.name]
        assert method.full_name == theirs.full_name
        assert method.input_type.full_name == theirs.input_type.full_name
        assert method.output_type.full_name == theirs.output_type.full_name
        assert _method_options(method) == _method_options(theirs), f"{method.full_name}: http/operation options"
        assert method.client_streaming == theirs.client_streaming is False
        assert method.server_streaming == theirs.server_streaming is False


def test_method_input_output_types_are_served_messages():
    image_service = wire.POOL.FindServiceByName(f"{CR}.ImageService")
    types = {m.name: (m.input_type.full_name, m.output_type.full_name) for m in image_service.methods}
    assert types["List"] == (f"{CR}.ListImagesRequest", f"{CR}.ListImagesResponse")
    assert types["Get"] == (f"{CR}.GetImageRequest", f"{CR}.Image")
    assert types["Delete"] == (f"{CR}.DeleteImageRequest", f"{OP}.Operation")
    operation_service = wire.POOL.FindServiceByName(f"{OP}.OperationService")
    get = operation_service.methods_by_name["Get"]
    assert (get.input_type.full_name, get.output_type.full_name) == (f"{OP}.GetOperationRequest", f"{OP}.Operation")


# ---- the committed descriptor set is not stale ----------------------------------------


def _yandex_files(path: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
    return {f.name: f for f in files if f.name.startswith("yandex/")}


def _differences(fresh: Path, committed: Path) -> list[str]:
    new, old = _yandex_files(fresh), _yandex_files(committed)
    found = []
    for name in sorted(set(new) | set(old)):
        if name not in old:
            found.append(f"{name}: compiled but not in the committed set")
        elif name not in new:
            found.append(f"{name}: in the committed set but no longer compiled")
        elif new[name] != old[name]:
            found.append(
                f"{name} differs:\n--- committed\n{text_format.MessageToString(old[name])}"
                f"\n--- compiled\n{text_format.MessageToString(new[name])}"
            )
    return found


def test_committed_descriptor_set_is_up_to_date(tmp_path):
    fresh = tmp_path / "x.binpb"
    proto_compile.compile_descriptor_set(fresh)
    committed = proto_compile.DESCRIPTOR_SET
    assert committed == wire.DESCRIPTOR_SET
    differences = _differences(fresh, committed)
    assert not differences, "run `python -m emulator.proto.compile`:\n" + "\n".join(differences)
    # Every .proto of the project is in the set, so none can drift unseen.
    assert set(_yandex_files(committed)) == set(proto_compile.own_proto_files())


@pytest.mark.parametrize(
    "path, old, new",
    [
        ("yandex/cloud/containerregistry/v1/image_service.proto", "int64 page_size = 3", "int64 page_size = 8"),
        (
            "yandex/cloud/containerregistry/v1/blob.proto",
            "repeated string urls = 4;",
            "repeated string urls = 4;\n  string media_type = 5;",
        ),
        ("yandex/cloud/operation/operation_service.proto", "[(required) = true]", ""),
    ],
    ids=["renumbered", "added-field", "dropped-annotation"],
)
def test_staleness_check_catches_an_unregenerated_edit(tmp_path, monkeypatch, path, old, new):
    """Edit a copy of the sources (never the real ones) and recompile: the check must object."""
    copy = tmp_path / "proto"
    shutil.copytree(proto_compile.PROTO_DIR, copy, ignore=shutil.ignore_patterns("*.py", "*.binpb", "__pycache__"))
    monkeypatch.setattr(proto_compile, "PROTO_DIR", copy)
    unedited = tmp_path / "unedited.binpb"
    proto_compile.compile_descriptor_set(unedited)
    assert not _differences(unedited, proto_compile.DESCRIPTOR_SET)  # the copy alone changes nothing

    source = copy / path
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new, 1))
    edited = tmp_path / "edited.binpb"
    proto_compile.compile_descriptor_set(edited)
    differences = _differences(edited, proto_compile.DESCRIPTOR_SET)
    assert len(differences) == 1 and differences[0].startswith(f"{path} differs")


# ---- the private descriptor pool, in both import orders -------------------------------

PRIVATE_POOL_SCRIPT = textwrap.dedent(
    """
    import sys

    from google.protobuf import descriptor_pool

    SERVICE_FILE = "yandex/cloud/containerregistry/v1/image_service.proto"

    def in_default_pool():
        try:
            descriptor_pool.Default().FindFileByName(SERVICE_FILE)
        except KeyError:
            return False
        return True

    if sys.argv[1] == "sdk-first":
        from yandex.cloud.containerregistry.v1 import image_service_pb2, image_service_pb2_grpc
        import emulator
        import emulator.api.wire
    else:
        import emulator
        import emulator.api.wire
        # The emulator put nothing of its own into protobuf's default pool.
        assert not in_default_pool(), "emulator registered its files in the default pool"
        from yandex.cloud.containerregistry.v1 import image_service_pb2, image_service_pb2_grpc

    import grpc
    from yandex.cloud.operation import operation_pb2

    assert emulator.api.wire.POOL is not descriptor_pool.Default()
    assert in_default_pool()
    assert image_service_pb2.DESCRIPTOR.pool is descriptor_pool.Default()

    with emulator.Emulator() as server:
        registry = server.add_registry("b1gpoolfolder", name="pool")
        image = server.add_image(registry.id, "team/app", tags=["v1"])
        channel = server.channel(timeout=10)
        try:
            stub = image_service_pb2_grpc.ImageServiceStub(channel)
            listed = stub.List(image_service_pb2.ListImagesRequest(folder_id="b1gpoolfolder"), timeout=10)
            assert isinstance(listed, image_service_pb2.ListImagesResponse)
            assert [i.id for i in listed.images] == [image.id], listed
            got = stub.Get(image_service_pb2.GetImageRequest(image_id=image.id), timeout=10)
            assert got.id == image.id and got.name == registry.id + "/team/app", got
            assert got.digest == image.digest and list(got.tags) == ["v1"], got
            assert got.compressed_size == sum(layer.size for layer in image.layers) + image.config.size > 0
            # Validation reads the annotations whichever module registered them first.
            try:
                stub.Get(image_service_pb2.GetImageRequest(image_id="x" * 51), timeout=10)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
            else:
                raise AssertionError("a 51-character image_id was accepted")
            operation = stub.Delete(image_service_pb2.DeleteImageRequest(image_id=image.id), timeout=10)
            assert isinstance(operation, operation_pb2.Operation) and operation.done
            metadata = image_service_pb2.DeleteImageMetadata()
            assert operation.metadata.Unpack(metadata) and metadata.image_id == image.id
        finally:
            channel.close()
    print("OK", sys.argv[1])
    """
)


@pytest.mark.parametrize("order", ["sdk-first", "emulator-first"])
def test_private_pool_in_either_import_order(order, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PRIVATE_POOL_SCRIPT, order],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"OK {order}"
