"""The validation mechanism on the RegistryService, RepositoryService and access-binding requests,
without a socket: messages built from the emulator's own classes, every annotation those requests
carry at, just under and just over its limit, and the field path each violation names."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from emulator.api import validation, wire
from emulator.api.errors import InvalidArgument
from emulator.api.validation import validate, violations

CR = "yandex.cloud.containerregistry.v1"
ACCESS = "yandex.cloud.access"
REGISTRY_ID = "crp71hkgiolp6677hg9i"
FOLDER_ID = "b1g0000000000000test"


def make(type_name: str, /, **fields) -> Message:
    """A message of the emulator's own class (a name without its package is a Container Registry type)."""
    full_name = type_name if type_name.startswith("yandex.") else f"{CR}.{type_name}"
    return wire.message_class(full_name)(**fields)


def fields_of(message: Message) -> list[str]:
    return [field for field, _ in violations(message)]


def only(message: Message) -> tuple[str, str]:
    """The one violation the message has."""
    (found,) = violations(message)
    return found


def subject(id: str = "ajeuser0000000000001", type: str = "userAccount") -> dict:
    return {"id": id, "type": type}


def binding(role_id: str = "container-registry.images.puller", **subject_fields) -> dict:
    return {"role_id": role_id, "subject": subject(**subject_fields)}


def delta(action: int = 1, **binding_fields) -> dict:
    return {"action": action, "access_binding": binding(**binding_fields)}


# ---- the mechanism itself -------------------------------------------------------------------------


def _all_messages() -> list[str]:
    files = descriptor_pb2.FileDescriptorSet.FromString(wire.DESCRIPTOR_SET.read_bytes()).file
    names = []

    def walk(prefix: str, messages) -> None:
        for message in messages:
            names.append(f"{prefix}.{message.name}")
            walk(f"{prefix}.{message.name}", message.nested_type)

    for file in files:
        if file.name.startswith("yandex/"):
            walk(file.package, file.message_type)
    return names


def test_every_annotation_of_every_message_is_understood():
    """Rules are read lazily, per request type: an annotation the reader cannot parse would only
    show up as an error on the first call. Read them all here."""
    names = _all_messages()
    assert f"{ACCESS}.UpdateAccessBindingsRequest" in names and f"{CR}.CreateRegistryRequest" in names
    for name in names:
        validation._message_rules(wire.POOL.FindMessageTypeByName(name))


def test_rules_are_read_once_per_message_type():
    descriptor = wire.POOL.FindMessageTypeByName(f"{CR}.CreateRegistryRequest")
    assert validation._message_rules(descriptor) is validation._message_rules(descriptor)


@pytest.mark.behaviour(
    "*",
    "documented",
    "Each .proto annotation (required, length, pattern, value, size, exactly_one) is enforced, INVALID_ARGUMENT.",
    "yandex/cloud/validation.proto (the annotations); https://github.com/yandex-cloud/docs/blob/master/en/api-design-guide/concepts/errors.md (INVALID_ARGUMENT: Incorrect request parameters specified. Details are provided in the details field)",
)
@pytest.mark.behaviour(
    "*",
    "choice",
    "All violations of a request are reported at once, each naming its field.",
    "the documentation says the details name the incorrect parameters, not whether all or only the first; all at once saves round trips",
)
def test_validate_raises_invalid_argument_with_every_violation():
    request = make("CreateRegistryRequest", name="X", labels={"Env": "prod"})
    with pytest.raises(InvalidArgument) as raised:
        validate(request)
    assert [field for field, _ in raised.value.violations] == ["folder_id", "name", "labels"]
    validate(make("CreateRegistryRequest", folder_id=FOLDER_ID))  # valid: no exception


# ---- registry_id / folder_id: required, length <= 50 ----------------------------------------------

REGISTRY_ID_REQUESTS = [
    "GetRegistryRequest",
    "UpdateRegistryRequest",
    "DeleteRegistryRequest",
    "ListIpPermissionRequest",
    "SetIpPermissionRequest",
    "UpdateIpPermissionRequest",
]


def _valid_extras(request: str) -> dict:
    return (
        {"ip_permission_deltas": [{"action": 1, "ip_permission": {"action": 1, "ip": "10.0.0.0/8"}}]}
        if (request == "UpdateIpPermissionRequest")
        else {}
    )


@pytest.mark.parametrize("request_type", REGISTRY_ID_REQUESTS)
@pytest.mark.parametrize("length", [1, 20, 49, 50])
def test_registry_id_up_to_50_chars_is_valid(request_type, length):
    assert violations(make(request_type, registry_id="r" * length, **_valid_extras(request_type))) == []


@pytest.mark.parametrize("request_type", REGISTRY_ID_REQUESTS)
@pytest.mark.parametrize("length", [51, 52])
def test_registry_id_over_50_chars_is_invalid(request_type, length):
    field, text = only(make(request_type, registry_id="r" * length, **_valid_extras(request_type)))
    assert field == "registry_id" and "50" in text and str(length) in text


@pytest.mark.parametrize("request_type", REGISTRY_ID_REQUESTS)
def test_registry_id_is_required(request_type):
    assert only(make(request_type, **_valid_extras(request_type))) == ("registry_id", "is required")


@pytest.mark.parametrize("request_type", ["ListRegistriesRequest", "CreateRegistryRequest"])
def test_folder_id_is_required_and_at_most_50_chars(request_type):
    assert violations(make(request_type, folder_id="b" * 50)) == []
    assert only(make(request_type, folder_id="b" * 51))[0] == "folder_id"
    assert only(make(request_type)) == ("folder_id", "is required")


# ---- CreateRegistryRequest / UpdateRegistryRequest: name, labels ------------------------------------

REGISTRY_WRITES = [
    ("CreateRegistryRequest", {"folder_id": FOLDER_ID}),
    ("UpdateRegistryRequest", {"registry_id": REGISTRY_ID}),
]
GOOD_NAMES = ["", "abc", "my-registry", "a1b", "a-1", "a" + "b" * 61 + "c"]  # empty: keep / unnamed
BAD_NAMES = ["ab", "a", "1abc", "-abc", "abc-", "Abc", "my_registry", "my.registry", "a" + "b" * 62 + "c", " abc"]


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("name", GOOD_NAMES)
def test_registry_name_matching_the_pattern_is_valid(request_type, base, name):
    assert violations(make(request_type, name=name, **base)) == []


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "The registry name must match its pattern.",
    "yandex/cloud/containerregistry/v1/registry_service.proto",
)
def test_registry_name_not_matching_the_pattern_is_invalid(request_type, base, name):
    field, text = only(make(request_type, name=name, **base))
    assert field == "name" and "[a-z][-a-z0-9]{1,61}[a-z0-9]" in text


def labels(count: int) -> dict[str, str]:
    return {f"key-{i}": f"value-{i}" for i in range(count)}


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("count", [0, 1, 63, 64])
def test_up_to_64_labels_are_valid(request_type, base, count):
    assert violations(make(request_type, labels=labels(count), **base)) == []


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("count", [65, 66])
@pytest.mark.behaviour(
    "RegistryService/Create",
    "documented",
    "At most 64 labels.",
    "yandex/cloud/containerregistry/v1/registry_service.proto",
)
def test_more_than_64_labels_are_invalid(request_type, base, count):
    field, text = only(make(request_type, labels=labels(count), **base))
    assert field == "labels" and "64" in text and str(count) in text


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("key", ["a", "k" * 62, "k" * 63, "env", "a-b_c", "a0", "z9-_"])
def test_label_key_of_1_to_63_chars_matching_the_pattern_is_valid(request_type, base, key):
    assert violations(make(request_type, labels={key: "v"}, **base)) == []


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("length", [64, 65])
def test_label_key_over_63_chars_is_invalid(request_type, base, length):
    key = "k" * length
    field, text = only(make(request_type, labels={key: "v"}, **base))
    assert field == "labels" and "63" in text and str(length) in text
    assert text.startswith(f"key '{key[:20]}")  # the description names the key


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
def test_empty_label_key_is_invalid(request_type, base):
    found = violations(make(request_type, labels={"": "v"}, **base))
    # Too short, and the pattern needs a first letter.
    assert [field for field, _ in found] == ["labels", "labels"]
    assert all(text.startswith("key ''") for _, text in found)
    assert "between 1 and 63" in found[0][1] and "[a-z][-_0-9a-z]*" in found[1][1]


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("key", ["Env", "1env", "-env", "_env", "env.x", "env/x", "env x", "ключ"])
def test_label_key_not_matching_the_pattern_is_invalid(request_type, base, key):
    field, text = only(make(request_type, labels={"good": "v", key: "v"}, **base))
    assert field == "labels" and f"key {key!r}" in text and "[a-z][-_0-9a-z]*" in text


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("value", ["", "v", "v" * 62, "v" * 63, "prod-1_x", "0"])
def test_label_value_up_to_63_chars_matching_the_pattern_is_valid(request_type, base, value):
    assert violations(make(request_type, labels={"env": value}, **base)) == []


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("length", [64, 65])
def test_label_value_over_63_chars_is_invalid(request_type, base, length):
    field, text = only(make(request_type, labels={"env": "v" * length}, **base))
    assert field == "labels" and text.startswith("value of key 'env'") and "63" in text and str(length) in text


@pytest.mark.parametrize("request_type, base", REGISTRY_WRITES)
@pytest.mark.parametrize("value", ["Prod", "a.b", "a/b", "a b", "a:b", "значение"])
def test_label_value_not_matching_the_pattern_is_invalid(request_type, base, value):
    field, text = only(make(request_type, labels={"env": value}, **base))
    assert field == "labels" and text.startswith("value of key 'env'") and "[-_0-9a-z]*" in text


def test_every_bad_label_is_reported_in_key_order():
    request = make("CreateRegistryRequest", folder_id=FOLDER_ID, labels={"b": "X", "A": "ok", "c": "ok"})
    assert [text.split(":")[0] for _, text in violations(request)] == ["key 'A'", "value of key 'b'"]


def test_update_mask_and_secure_carry_no_rule():
    update = make("UpdateRegistryRequest", registry_id=REGISTRY_ID, update_mask={"paths": ["name", "labels"]})
    assert violations(update) == []
    assert violations(make("CreateRegistryRequest", folder_id=FOLDER_ID, secure=True)) == []


# ---- ListRegistriesRequest / ListRepositoriesRequest: paging, filter, order_by -----------------------

LIST_LIMITS = [
    ("ListRegistriesRequest", {"folder_id": FOLDER_ID}, "page_token", 100),
    ("ListRegistriesRequest", {"folder_id": FOLDER_ID}, "filter", 1000),
    ("ListRepositoriesRequest", {}, "registry_id", 50),
    ("ListRepositoriesRequest", {}, "folder_id", 50),
    ("ListRepositoriesRequest", {}, "page_token", 100),
    ("ListRepositoriesRequest", {}, "filter", 1000),
    ("ListRepositoriesRequest", {}, "order_by", 100),
]


@pytest.mark.parametrize("request_type, base, field, limit", LIST_LIMITS)
def test_list_string_at_its_limit_is_valid(request_type, base, field, limit):
    assert violations(make(request_type, **{field: "x" * limit}, **base)) == []
    assert violations(make(request_type, **{field: "x" * (limit - 1)}, **base)) == []


@pytest.mark.parametrize("request_type, base, field, limit", LIST_LIMITS)
def test_list_string_over_its_limit_is_invalid(request_type, base, field, limit):
    found_field, text = only(make(request_type, **{field: "x" * (limit + 1)}, **base))
    assert found_field == field and str(limit) in text and str(limit + 1) in text


@pytest.mark.parametrize(
    "request_type, base", [("ListRegistriesRequest", {"folder_id": FOLDER_ID}), ("ListRepositoriesRequest", {})]
)
@pytest.mark.parametrize("page_size", [0, 1, 999, 1000])
def test_list_page_size_up_to_1000_is_valid(request_type, base, page_size):
    assert violations(make(request_type, page_size=page_size, **base)) == []


@pytest.mark.parametrize(
    "request_type, base", [("ListRegistriesRequest", {"folder_id": FOLDER_ID}), ("ListRepositoriesRequest", {})]
)
@pytest.mark.parametrize("page_size", [1001, 2**63 - 1])
def test_list_page_size_over_1000_is_invalid(request_type, base, page_size):
    field, text = only(make(request_type, page_size=page_size, **base))
    assert field == "page_size" and "1000" in text


def test_list_repositories_needs_no_field():
    assert violations(make("ListRepositoriesRequest")) == []


# ---- RepositoryService: ids and names ----------------------------------------------------------------

GOOD_REPOSITORY_NAMES = [
    f"{REGISTRY_ID}/ubuntu",
    f"{REGISTRY_ID}/team/web",
    f"{REGISTRY_ID}/myproject/myservice/api",
    "a",
    "a.b-c_d/x1/y-2/z_3.4",
]
BAD_REPOSITORY_NAMES = [
    f"{REGISTRY_ID}/Ubuntu",
    f"{REGISTRY_ID}//web",
    f"{REGISTRY_ID}/web/",
    f"/{REGISTRY_ID}/web",
    f"{REGISTRY_ID}/web:latest",
    f"{REGISTRY_ID}/a..b",
    f"{REGISTRY_ID}/-web",
    f"{REGISTRY_ID}/web app",
]
NAME_FIELDS = [("GetRepositoryByNameRequest", "repository_name"), ("UpsertRepositoryRequest", "name")]


@pytest.mark.parametrize("request_type, field", NAME_FIELDS)
@pytest.mark.parametrize("name", GOOD_REPOSITORY_NAMES)
def test_repository_name_matching_the_pattern_is_valid(request_type, field, name):
    assert violations(make(request_type, **{field: name})) == []


@pytest.mark.parametrize("request_type, field", NAME_FIELDS)
@pytest.mark.parametrize("name", BAD_REPOSITORY_NAMES)
def test_repository_name_not_matching_the_pattern_is_invalid(request_type, field, name):
    found_field, text = only(make(request_type, **{field: name}))
    assert found_field == field and "must match the regular expression" in text


@pytest.mark.parametrize("request_type, field", NAME_FIELDS)
def test_repository_name_is_required(request_type, field):
    # Empty matches no pattern either; "is required" says it all.
    assert only(make(request_type)) == (field, "is required")


@pytest.mark.parametrize("request_type", ["GetRepositoryRequest", "DeleteRepositoryRequest"])
def test_repository_id_is_required_and_at_most_50_chars(request_type):
    assert violations(make(request_type, repository_id="c" * 50)) == []
    field, text = only(make(request_type, repository_id="c" * 51))
    assert field == "repository_id" and "50" in text and "51" in text
    assert only(make(request_type)) == ("repository_id", "is required")


# ---- IP permissions ----------------------------------------------------------------------------------

GOOD_IPS = ["10.0.0.1", "10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "fe80::1", "2001:db8::1/128"]
# The public pattern: an IPv6 address must start with a hex digit ("::1" fails), a prefix cannot be 0,
# and an empty ip does not match either.
BAD_IPS = ["", "localhost", "10.0.0", "10.0.0.0/0", "10.0.0.0/", "::1", "10.0.0.0/8 ", "a.b.c.d"]


@pytest.mark.parametrize("ip", GOOD_IPS)
def test_ip_matching_the_pattern_is_valid(ip):
    request = make("SetIpPermissionRequest", registry_id=REGISTRY_ID, ip_permission=[{"action": 2, "ip": ip}])
    assert violations(request) == []


@pytest.mark.parametrize("ip", BAD_IPS)
@pytest.mark.behaviour(
    "RegistryService/SetIpPermission",
    "documented",
    "IpPermission.ip is checked with the official pattern as published, its unescaped `.` included.",
    "yandex/cloud/containerregistry/v1/ip_permission.proto",
)
def test_ip_not_matching_the_pattern_is_invalid(ip):
    request = make(
        "SetIpPermissionRequest",
        registry_id=REGISTRY_ID,
        ip_permission=[{"action": 1, "ip": "10.0.0.1"}, {"action": 1, "ip": ip}],
    )
    field, text = only(request)
    assert field == "ip_permission[1].ip" and "must match the regular expression" in text


def test_set_ip_permission_may_clear_every_permission():
    assert violations(make("SetIpPermissionRequest", registry_id=REGISTRY_ID)) == []


@pytest.mark.behaviour(
    "RegistryService/SetIpPermission",
    "documented",
    "IpPermission.action is required.",
    "yandex/cloud/containerregistry/v1/ip_permission.proto",
)
def test_ip_permission_action_is_a_required_enum():
    request = make("SetIpPermissionRequest", registry_id=REGISTRY_ID, ip_permission=[{"ip": "10.0.0.1"}])
    assert only(request) == ("ip_permission[0].action", "is required, got ACTION_UNSPECIFIED")


@pytest.mark.behaviour(
    "RegistryService/UpdateIpPermission",
    "documented",
    "ip_permission_deltas holds at least one delta.",
    "yandex/cloud/containerregistry/v1/registry_service.proto",
)
def test_ip_permission_deltas_need_at_least_one():
    empty = make("UpdateIpPermissionRequest", registry_id=REGISTRY_ID)
    field, text = only(empty)
    assert field == "ip_permission_deltas" and ">= 1" in text and "got 0" in text
    one = make(
        "UpdateIpPermissionRequest",
        registry_id=REGISTRY_ID,
        ip_permission_deltas=[{"action": 2, "ip_permission": {"action": 1, "ip": "10.0.0.1"}}],
    )
    assert violations(one) == []


def test_ip_permission_delta_action_and_permission_are_required():
    request = make("UpdateIpPermissionRequest", registry_id=REGISTRY_ID, ip_permission_deltas=[{}])
    assert violations(request) == [
        ("ip_permission_deltas[0].action", "is required, got IP_PERMISSION_ACTION_UNSPECIFIED"),
        ("ip_permission_deltas[0].ip_permission", "is required"),
    ]


def test_required_message_is_checked_by_presence_not_content():
    """An empty but present ip_permission is present (HasField); its own rules still apply."""
    request = make("UpdateIpPermissionRequest", registry_id=REGISTRY_ID)
    request.ip_permission_deltas.add(action=1).ip_permission.SetInParent()
    assert fields_of(request) == [
        "ip_permission_deltas[0].ip_permission.action",
        "ip_permission_deltas[0].ip_permission.ip",
    ]


# ---- access bindings ---------------------------------------------------------------------------------

RESOURCE_REQUESTS = [
    ("ListAccessBindingsRequest", {}),
    ("SetAccessBindingsRequest", {}),
    ("UpdateAccessBindingsRequest", {"access_binding_deltas": [delta()]}),
]


def access(type_name: str, /, **fields) -> Message:
    return make(f"{ACCESS}.{type_name}", **fields)


@pytest.mark.parametrize("request_type, base", RESOURCE_REQUESTS)
def test_resource_id_is_required_and_at_most_64_chars(request_type, base):
    assert violations(access(request_type, resource_id="r" * 64, **base)) == []
    field, text = only(access(request_type, resource_id="r" * 65, **base))
    assert field == "resource_id" and "64" in text and "65" in text
    assert only(access(request_type, **base)) == ("resource_id", "is required")


@pytest.mark.parametrize("page_size", [0, 1, 999, 1000])
def test_list_access_bindings_page_size_from_0_to_1000_is_valid(page_size):
    assert violations(access("ListAccessBindingsRequest", resource_id=REGISTRY_ID, page_size=page_size)) == []


@pytest.mark.parametrize("page_size", [-1, 1001, -(2**63)])
def test_list_access_bindings_page_size_outside_0_to_1000_is_invalid(page_size):
    field, text = only(access("ListAccessBindingsRequest", resource_id=REGISTRY_ID, page_size=page_size))
    assert field == "page_size" and "between 0 and 1000" in text and str(page_size) in text


@pytest.mark.behaviour(
    "RegistryService/ListAccessBindings",
    "choice",
    "page_token may be 2000 characters, as the official SDK's descriptors say (the public .proto says 100).",
    "where the SDK's descriptors and the .proto files differ, the emulator follows the SDK",
)
def test_list_access_bindings_page_token_limit_is_the_sdks_2000():
    assert violations(access("ListAccessBindingsRequest", resource_id=REGISTRY_ID, page_token="t" * 2000)) == []
    field, text = only(access("ListAccessBindingsRequest", resource_id=REGISTRY_ID, page_token="t" * 2001))
    assert field == "page_token" and "2000" in text


@pytest.mark.parametrize("count", [0, 1, 1000])
def test_set_access_bindings_up_to_1000_is_valid(count):
    request = access("SetAccessBindingsRequest", resource_id=REGISTRY_ID, access_bindings=[binding()] * count)
    assert violations(request) == []


def test_set_access_bindings_over_1000_is_invalid():
    request = access("SetAccessBindingsRequest", resource_id=REGISTRY_ID, access_bindings=[binding()] * 1001)
    field, text = only(request)
    assert field == "access_bindings" and "1000" in text and "1001" in text


@pytest.mark.parametrize("count", [1, 2, 1000])
def test_access_binding_deltas_from_1_to_1000_are_valid(count):
    request = access("UpdateAccessBindingsRequest", resource_id=REGISTRY_ID, access_binding_deltas=[delta()] * count)
    assert violations(request) == []


@pytest.mark.parametrize("count", [0, 1001])
@pytest.mark.behaviour(
    "RegistryService/UpdateAccessBindings",
    "documented",
    "access_binding_deltas holds 1 to 1000 deltas.",
    "yandex/cloud/access/access.proto",
)
def test_access_binding_deltas_outside_1_to_1000_are_invalid(count):
    request = access("UpdateAccessBindingsRequest", resource_id=REGISTRY_ID, access_binding_deltas=[delta()] * count)
    field, text = only(request)
    assert field == "access_binding_deltas" and "between 1 and 1000" in text and f"got {count}" in text


@pytest.mark.parametrize("length, valid", [(1, True), (63, True), (64, True), (65, False), (66, False)])
def test_role_id_at_most_64_chars(length, valid):
    request = access("SetAccessBindingsRequest", resource_id=REGISTRY_ID, access_bindings=[binding("r" * length)])
    assert fields_of(request) == ([] if valid else ["access_bindings[0].role_id"])


@pytest.mark.parametrize("field", ["id", "type"])
@pytest.mark.parametrize("length, valid", [(1, True), (99, True), (100, True), (101, False), (102, False)])
def test_subject_id_and_type_at_most_100_chars(field, length, valid):
    deltas = [delta(), delta(**{field: "s" * length})]
    request = access("UpdateAccessBindingsRequest", resource_id=REGISTRY_ID, access_binding_deltas=deltas)
    path = f"access_binding_deltas[1].access_binding.subject.{field}"
    assert fields_of(request) == ([] if valid else [path])
    if not valid:
        assert "100" in only(request)[1] and str(length) in only(request)[1]


def test_role_id_and_subject_fields_are_required():
    request = access(
        "SetAccessBindingsRequest",
        resource_id=REGISTRY_ID,
        access_bindings=[{"subject": {}}, {"role_id": "viewer"}],
    )
    assert violations(request) == [
        ("access_bindings[0].role_id", "is required"),
        ("access_bindings[0].subject.id", "is required"),
        ("access_bindings[0].subject.type", "is required"),
        ("access_bindings[1].subject", "is required"),
    ]


def test_access_binding_delta_action_is_a_required_enum_and_binding_a_required_message():
    request = access(
        "UpdateAccessBindingsRequest",
        resource_id=REGISTRY_ID,
        access_binding_deltas=[{"access_binding": binding()}, {"action": 2}],
    )
    assert violations(request) == [
        ("access_binding_deltas[0].action", "is required, got ACCESS_BINDING_ACTION_UNSPECIFIED"),
        ("access_binding_deltas[1].access_binding", "is required"),
    ]


@pytest.mark.parametrize("action", [1, 2])
def test_access_binding_delta_action_add_and_remove_are_valid(action):
    request = access("UpdateAccessBindingsRequest", resource_id=REGISTRY_ID, access_binding_deltas=[delta(action)])
    assert violations(request) == []
