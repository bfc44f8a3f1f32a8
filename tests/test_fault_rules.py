"""Fault rules and the call recorder without sockets: parsing (every bad rule refused naming its
field), matching, count/after/probability, and the recorder's bounds."""

from __future__ import annotations

import json

import grpc
import pytest

from conftest import FOLDER
from emulator.rpc.faults import MAX_RULES, Faults, parse_rule
from emulator.rpc.recording import CallRecorder, RecordedCall
from emulator.rpc.services import CATALOGUE

IMAGES = "yandex.cloud.containerregistry.v1.ImageService"
KNOWN = CATALOGUE


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"code": "UNAVAILABLE"}, "method"),
        ({"method": "NoService/List", "code": "UNAVAILABLE"}, "method"),
        ({"method": "ImageService/Explode", "code": "UNAVAILABLE"}, "method"),
        ({"method": "*", "code": "SOMETIMES"}, "code"),
        ({"method": "*", "code": "OK"}, "code"),
        ({"method": "*"}, "code"),
        ({"method": "*", "code": "UNAVAILABLE", "probability": 1.5}, "probability"),
        ({"method": "*", "code": "UNAVAILABLE", "probability": -0.1}, "probability"),
        ({"method": "*", "code": "UNAVAILABLE", "count": 0}, "count"),
        ({"method": "*", "code": "UNAVAILABLE", "after": -1}, "after"),
        ({"method": "*", "code": "UNAVAILABLE", "count": True}, "count"),
        ({"method": "*", "delay_ms": 60_001}, "delay_ms"),
        ({"method": "*", "code": "UNAVAILABLE", "seed": 3}, "seed"),
        ({"method": "*", "code": "UNAVAILABLE", "colour": "red"}, "colour"),
        ({"method": "*", "code": "UNAVAILABLE", "match": ["image_id"]}, "match"),
        ({"method": "*", "operation_error": {"code": "NOPE"}}, "operation_error.code"),
        ({"method": "*", "operation_error": {"code": "INTERNAL"}, "code": "UNAVAILABLE"}, "operation_error"),
        ("UNAVAILABLE", "rule"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(rule, field):
    faults = Faults(KNOWN)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        faults.add(rule)
    assert faults.rules() == []


@pytest.mark.parametrize("method", ["*", "ImageService", "ImageService/List", f"{IMAGES}/List"])
def test_every_way_of_naming_a_method(method):
    faults = Faults(KNOWN)
    faults.add({"method": method, "code": "UNAVAILABLE"})
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/List"), {}).code == "UNAVAILABLE"


def test_a_method_rule_leaves_other_methods_alone():
    faults = Faults(KNOWN)
    faults.add({"method": "ImageService/List", "code": "UNAVAILABLE"})
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/Get"), {}) is None


def test_count_after_and_order():
    faults = Faults(KNOWN)
    first = faults.add({"method": "*", "code": "UNAVAILABLE", "after": 1, "count": 2})
    faults.add({"method": "*", "code": "INTERNAL"})
    codes = [faults.decide(CATALOGUE.method(f"{IMAGES}/List"), {}).code for _ in range(5)]
    assert codes == ["INTERNAL", "UNAVAILABLE", "UNAVAILABLE", "INTERNAL", "INTERNAL"]
    assert first.id not in [rule["id"] for rule in faults.rules()]  # expired


def test_match_limits_a_rule_to_one_request():
    faults = Faults(KNOWN)
    faults.add({"method": "ImageService/Delete", "match": {"image_id": "crpone"}, "code": "INTERNAL"})
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/Delete"), {"image_id": "crpone"}).code == "INTERNAL"
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/Delete"), {"image_id": "crptwo"}) is None
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/Delete"), None) is None  # undecodable: no match


def test_probability_with_a_seed_repeats_itself():
    def sequence():
        faults = Faults(KNOWN)
        faults.add({"method": "*", "code": "UNAVAILABLE", "probability": 0.5, "seed": 42})
        return [faults.decide(CATALOGUE.method(f"{IMAGES}/List"), {}) is not None for _ in range(64)]

    first = sequence()
    assert first == sequence()
    assert 10 < sum(first) < 54


def test_remove_clear_and_the_limit():
    faults = Faults(KNOWN)
    rule = faults.add({"method": "*", "delay_ms": 5})
    assert faults.remove(rule.id) and not faults.remove(rule.id)
    for _ in range(MAX_RULES):
        faults.add({"method": "*", "delay_ms": 1})
    with pytest.raises(ValueError, match="at most"):
        faults.add({"method": "*", "delay_ms": 1})
    faults.clear()
    assert faults.rules() == []


def test_parse_keeps_what_was_given():
    rule = parse_rule(
        {"method": "ImageService/Delete", "operation_error": {"code": "INTERNAL", "message": "disk"}, "count": 1},
        "fault-1",
        KNOWN,
    )
    assert rule.to_json() == {
        "id": "fault-1",
        "method": f"{IMAGES}/Delete",
        "operation_error": {"code": "INTERNAL", "message": "disk"},
        "count": 1,
    }


def _call(n: int, size: int = 10) -> RecordedCall:
    return RecordedCall(n, f"{IMAGES}/List", b"x" * size, "T", "OK", "aje", f"r{n}", None)


def test_the_recorder_is_bounded_by_calls_and_bytes():
    recorder = CallRecorder(lambda kind, raw: {"size": len(raw)}, CATALOGUE.answers_to, max_calls=3, max_bytes=25)
    for n in range(5):
        recorder.record(_call(n))
    assert [call["request_id"] for call in recorder.calls()] == ["r3", "r4"]  # 3 x 10 bytes > 25
    recorder.record(_call(9, size=100))  # larger than the buffer: kept without its request
    assert recorder.calls()[-1]["request"] == {"size": 0}
    assert recorder.calls(method="ImageService/List") == recorder.calls(method="List") == recorder.calls()
    assert recorder.calls(method="Get") == []
    recorder.clear()
    assert recorder.calls() == []


def test_a_request_protobuf_cannot_write_as_json_is_still_listed(emulator, channel):
    """P6: UpdateRegistry with update_mask.paths=["Name"] is INVALID_ARGUMENT (right), but then
    Emulator.calls raised SerializeToJsonError (a field mask path JSON cannot carry) and GET /calls
    answered 500 until reset. It is listed with the reason and the request in protobuf's text form."""
    from yandex.cloud.containerregistry.v1 import registry_service_pb2 as registry_pb
    from yandex.cloud.containerregistry.v1.registry_service_pb2_grpc import RegistryServiceStub

    registry = emulator.add_registry(FOLDER)
    request = registry_pb.UpdateRegistryRequest(registry_id=registry.id)
    request.update_mask.paths.append("Name")
    with pytest.raises(grpc.RpcError) as caught:
        RegistryServiceStub(channel).Update(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    (call,) = emulator.calls_of("RegistryService/Update")
    assert call["code"] == "INVALID_ARGUMENT"
    assert "Name" in call["request"]["not_json"] and 'paths: "Name"' in call["request"]["text"]
    json.dumps(emulator.calls)  # every call, as GET /calls serves it


# ---- validated as strictly as requests (issue #20: P7, P8) -------------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"method": "*", "code": "UNAVAILABLE", "probability": float("nan")}, "probability"),
        ({"method": "*", "code": "UNAVAILABLE", "probability": float("inf")}, "probability"),
        ({"method": "*", "code": "UNAVAILABLE", "message": "bad \ud800 text"}, "message"),
        ({"method": "*", "code": "UNAVAILABLE", "message": "x" * 1001}, "message"),
        ({"method": "ImageService/Delete", "operation_error": {"code": "INTERNAL", "message": "y" * 1001}},
         "operation_error.message"),
        ({"method": "ImageService/Get", "code": "UNAVAILABLE", "match": {"imageid": "crp1"}}, "match.imageid"),
        ({"method": "ImageService", "code": "UNAVAILABLE", "match": {"nothing_has_this": 1}}, "match.nothing_has_this"),
        ({"method": "ImageService/Get", "code": "UNAVAILABLE", "match": {"image_id": 7}}, "match.image_id"),
        ({"method": "ImageService/List", "code": "UNAVAILABLE", "match": {"page_size": "10"}}, "match.page_size"),
        ({"method": "*", "code": "UNAVAILABLE", "match": {"image_id": "crp1", "\ud800": "x"}}, "match"),
        ({"method": "RegistryService/Create", "code": "UNAVAILABLE", "match": {"labels": []}}, "match.labels"),
        ({"method": "ImageService/List", "code": "UNAVAILABLE", "match": {"page_size": 2**80}}, "match.page_size"),
    ],
)  # fmt: skip
def test_rules_are_held_to_what_a_request_could_carry(rule, field):
    """P7/P8: NaN fired on every call, a lone surrogate broke the call, a 3,000-character message
    made RESOURCE_EXHAUSTED instead of the code, a field the request lacks never (or always) fired."""
    faults = Faults(KNOWN)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        faults.add(rule)
    assert faults.rules() == []


def test_a_match_on_a_field_some_method_of_the_service_has_is_accepted():
    faults = Faults(KNOWN)
    faults.add({"method": "ImageService", "code": "UNAVAILABLE", "match": {"image_id": "crp1"}})
    faults.add({"method": "ImageService/List", "code": "UNAVAILABLE", "match": {"page_size": 10}})
    assert faults.decide(CATALOGUE.method(f"{IMAGES}/Get"), {"image_id": "crp1"}).code == "UNAVAILABLE"


def test_a_field_named_self_is_an_unknown_field_everywhere(emulator):
    """P8: --fault '{"self": 1, ...}' printed a TypeError traceback (Python's own `self`)."""
    with pytest.raises(ValueError, match="^self: unknown field"):
        emulator.add_fault(self=1, method="*", code="UNAVAILABLE")
    assert emulator.faults == []


def test_the_cli_refuses_such_a_rule_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--fault", '{"self": 1, "method": "*", "code": "UNAVAILABLE"}'],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "self: unknown field" in done.stderr


def test_the_recorder_keeps_exactly_max_calls_when_the_count_bites_first():
    """The count bound, alone: max_calls calls are kept (not one fewer, not one more)."""
    recorder = CallRecorder(lambda request_type, raw: {}, lambda method: frozenset({method}), max_calls=3)
    for n in range(5):
        recorder.record(RecordedCall(n, "m", b"x", "t", "OK", "s", f"r{n}", None))
    assert [call["request_id"] for call in recorder.calls()] == ["r2", "r3", "r4"]
    recorder.record(RecordedCall(9, "m", b"", "t", "OK", "s", "r9", None))
    assert len(recorder.calls()) == 3
