"""Fault injection and call recording through the wire, with the official SDK as the client:
retried UNAVAILABLE, errors that reach the caller, delays, operation errors, match, seeded
probability, trailers-only injected statuses, and the recording of exactly the calls made."""

from __future__ import annotations

import json
import re
import subprocess
import time
import warnings

import grpc
import pytest
import yandexcloud
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

from conftest import FOLDER, rpc_error
from emulator import Emulator
from tests.support.docs import assert_on_page

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated class RetryInterceptor:DeprecationWarning")
Code = grpc.StatusCode


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(tls=True) as running:
        yield running


@pytest.fixture
def world(tls_emulator):
    tls_emulator.reset()
    registry = tls_emulator.add_registry(FOLDER)
    images = [tls_emulator.add_image(registry.id, "app", tags=[f"v{n}"]) for n in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = yandexcloud.SDK(
            endpoint=tls_emulator.endpoint,
            root_certificates=tls_emulator.ca_pem,
            iam_token="t1.f",
            retry_policy=yandexcloud.RetryPolicy(),  # the SDK's own: UNAVAILABLE, 4 attempts
        )
    return tls_emulator, registry, images, sdk


def test_an_unavailable_once_is_retried_by_the_sdk_and_succeeds(world):
    emulator, registry, images, sdk = world
    emulator.add_fault(method="ImageService/List", code="UNAVAILABLE", count=1)
    page = sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=registry.id))
    assert len(page.images) == 3
    lists = emulator.calls_of("ImageService/List")
    assert [call["code"] for call in lists] == ["UNAVAILABLE", "OK"]
    assert lists[0]["fault"] is not None and lists[1]["fault"] is None
    assert emulator.faults == []  # its count is spent


def test_without_a_count_the_error_reaches_the_caller(world):
    emulator, registry, _, sdk = world
    emulator.add_fault(method="ImageService/List", code="RESOURCE_EXHAUSTED", message="quota")
    err = rpc_error(sdk.client(ImageServiceStub).List, pb.ListImagesRequest(registry_id=registry.id))
    assert (err.code(), err.details()) == (Code.RESOURCE_EXHAUSTED, "quota")


def test_an_injected_status_is_trailers_only_and_an_emulator_error_is_not(world):
    emulator, registry, _, _ = world
    images = ImageServiceStub(emulator.channel())
    with emulator.add_fault(method="ImageService/Get", code="UNAVAILABLE"):
        future = images.Get.future(pb.GetImageRequest(image_id="crpmissing"))
        assert future.exception().code() == Code.UNAVAILABLE
        assert not dict(future.initial_metadata())  # no headers: as a proxy's failure
    future = images.Get.future(pb.GetImageRequest(image_id="crpmissing"))
    assert future.exception().code() == Code.NOT_FOUND
    assert "x-request-id" in dict(future.initial_metadata())


def test_delay_ms_delays_at_least_that_long(world):
    emulator, registry, _, sdk = world
    emulator.add_fault(method="ImageService/List", delay_ms=300, count=1)
    started = time.monotonic()
    sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=registry.id))
    assert time.monotonic() - started >= 0.3


def test_an_operation_error_makes_the_waiter_raise_and_the_image_stays(world):
    emulator, _, images, sdk = world
    target = images[0]
    emulator.add_fault(
        method="ImageService/Delete", operation_error={"code": "INTERNAL", "message": "disk on fire"}, count=1
    )
    operation = sdk.client(ImageServiceStub).Delete(pb.DeleteImageRequest(image_id=target.id))
    assert operation.done and operation.error.code == Code.INTERNAL.value[0]
    with pytest.raises(Exception, match="disk on fire"):
        sdk.wait_operation_and_get_result(operation, meta_type=pb.DeleteImageMetadata)
    assert target.id in emulator.images


def test_match_limits_a_fault_to_one_image(world):
    emulator, _, images, sdk = world
    emulator.add_fault(method="ImageService/Delete", match={"image_id": images[1].id}, code="PERMISSION_DENIED")
    stub = sdk.client(ImageServiceStub)
    err = rpc_error(stub.Delete, pb.DeleteImageRequest(image_id=images[1].id))
    assert err.code() == Code.PERMISSION_DENIED
    assert stub.Delete(pb.DeleteImageRequest(image_id=images[0].id)).done
    assert set(emulator.images) == {images[1].id, images[2].id}


def test_probability_with_a_seed_gives_the_same_sequence_twice(world):
    emulator, registry, _, _ = world
    stub = ImageServiceStub(emulator.channel())

    def sequence() -> list[bool]:
        emulator.clear_faults()
        emulator.add_fault(method="ImageService/Get", code="UNAVAILABLE", probability=0.5, seed=7)
        outcome = []
        for _ in range(30):
            try:
                stub.Get(pb.GetImageRequest(image_id=next(iter(emulator.images))))
                outcome.append(True)
            except grpc.RpcError:
                outcome.append(False)
        return outcome

    first = sequence()
    assert first == sequence()
    assert 0 < first.count(False) < 30


def test_bad_rules_are_refused_and_change_nothing(world):
    emulator = world[0]
    bad_rules = [
        ({"method": "Nope/List", "code": "UNAVAILABLE"}, "method"),
        ({"method": "*", "code": "MAYBE"}, "code"),
        ({"method": "*", "code": "UNAVAILABLE", "probability": 2}, "probability"),
        ({"method": "*", "code": "UNAVAILABLE", "k": 1}, "k"),
    ]
    for bad, field in bad_rules:
        with pytest.raises(ValueError, match=f"^{field}: "):
            emulator.add_fault(**bad)
    assert emulator.faults == []


def test_the_recording_shows_exactly_the_calls_made_in_order(world):
    emulator, registry, images, _ = world
    emulator.reset()
    registry = emulator.add_registry(FOLDER)
    image = emulator.add_image(registry.id, "app")
    stub = ImageServiceStub(emulator.channel())
    metadata = (("authorization", "Bearer t1.secret-token"),)
    stub.List(pb.ListImagesRequest(registry_id=registry.id, page_size=5), metadata=metadata)
    stub.Get(pb.GetImageRequest(image_id=image.id))
    rpc_error(stub.Get, pb.GetImageRequest(image_id="crpnothere"))
    stub.Delete(pb.DeleteImageRequest(image_id=image.id))
    calls = emulator.calls
    assert [(c["method"].rpartition("/")[2], c["code"]) for c in calls] == [
        ("List", "OK"), ("Get", "OK"), ("Get", "NOT_FOUND"), ("Delete", "OK"),
    ]  # fmt: skip
    assert calls[0]["request"] == {"registry_id": registry.id, "page_size": "5"}
    assert all(len(c["request_id"]) == 36 and c["fault"] is None for c in calls)
    assert "secret-token" not in repr(calls)  # the subject, never the token
    assert [c["request"]["image_id"] for c in emulator.calls_of("Delete")] == [image.id]
    emulator.reset()
    assert emulator.calls == []


def test_the_control_plane_and_remote_client_manage_faults_and_read_calls(tmp_path):
    from emulator.control.process import EmulatorProcess

    with EmulatorProcess() as process:
        registry = process.add_registry(FOLDER)
        image = process.add_image(registry.id, "app")
        handle = process.add_fault(method="ImageService/Get", code="UNAVAILABLE", count=2)
        assert process.faults == [handle.rule] and handle.rule["count"] == 2
        with pytest.raises(ValueError, match="^code: "):
            process.add_fault(method="ImageService/Get", code="PERHAPS")
        channel = process.channel()
        stub = ImageServiceStub(channel)
        assert rpc_error(stub.Get, pb.GetImageRequest(image_id=image.id)).code() == Code.UNAVAILABLE
        assert process.faults[0]["count"] == 1
        assert handle.remove() and process.faults == [] and not handle.remove()
        assert stub.Get(pb.GetImageRequest(image_id=image.id)).id == image.id
        process.add_fault(method="*", delay_ms=1)
        process.clear_faults()
        assert process.faults == []
        gets = process.calls_of("ImageService/Get")
        assert [call["code"] for call in gets] == ["UNAVAILABLE", "OK"]
        assert gets[0]["request"] == {"image_id": image.id}
        assert process.calls_of("Delete") == [] and len(process.calls) == 2
        with pytest.raises(ValueError, match="unknown parameter"):
            process._call("faults", {"method": "x"}) if False else _get(process, "/calls?colour=red")
        channel.close()


def _get(process, path: str):
    import json
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(process.admin_url + path, timeout=10)
    except urllib.error.HTTPError as error:
        with error:
            raise ValueError(json.loads(error.read())["error"]) from None


def test_the_cli_takes_fault_rules_and_refuses_bad_ones():
    import json
    import subprocess
    import sys

    from emulator.control.process import EmulatorProcess

    bad = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--fault", '{"method": "ImageService/List", "code": "NO"}'],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--fault" in bad.stderr and "code: " in bad.stderr, bad.stderr
    rule = {"method": "ImageService/List", "code": "UNAVAILABLE", "message": "from the CLI"}
    # empty=False: EmulatorProcess would otherwise reset it at start, and reset() clears the rules
    with EmulatorProcess(["--seed", "emulator/demo_seed.json", "--fault", json.dumps(rule)], empty=False) as process:
        assert [entry["message"] for entry in process.faults] == ["from the CLI"]
        channel = process.channel()
        err = rpc_error(ImageServiceStub(channel).List, pb.ListImagesRequest(folder_id=FOLDER))
        assert (err.code(), err.details()) == (Code.UNAVAILABLE, "from the CLI")
        channel.close()


MARKED = """
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb


@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", count=1)
@pytest.mark.ycr_fault(method="ImageService/List", code="INTERNAL", message="marked")
def test_marked(ycr, ycr_image, ycr_stubs, ycr_registry):
    image = ycr_image()
    with pytest.raises(grpc.RpcError) as caught:
        ycr_stubs.images.List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert caught.value.details() == "marked"
    with pytest.raises(grpc.RpcError) as caught:
        ycr_stubs.images.Get(pb.GetImageRequest(image_id=image.id))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ycr_stubs.images.Get(pb.GetImageRequest(image_id=image.id)).id == image.id


def test_the_next_test_has_none(ycr):
    assert ycr.faults == []


@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", message="first", count=1)
@pytest.mark.ycr_fault(method="ImageService/Get", code="UNAVAILABLE", message="second", count=1)
def test_stacked_markers_on_one_method_apply_top_first(ycr_image, ycr_stubs):
    image = ycr_image()
    for expected in ("first", "second"):
        with pytest.raises(grpc.RpcError) as caught:
            ycr_stubs.images.Get(pb.GetImageRequest(image_id=image.id))
        assert caught.value.details() == expected
    assert ycr_stubs.images.Get(pb.GetImageRequest(image_id=image.id)).id == image.id


@pytest.mark.ycr_fault(method="ImageService/Get", code="MAYBE")
def test_a_bad_rule_fails_its_test(ycr):
    pass
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess", "external"])
def test_the_ycr_fault_marker_in_every_mode(pytester, monkeypatch, mode):
    from emulator.control.process import EmulatorProcess

    pytester.makepyfile(test_marked=MARKED)
    if mode != "external":
        result = pytester.runpytest_subprocess("-p", "no:randomly", f"--ycr-mode={mode}")
    else:
        with EmulatorProcess() as running:
            monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
            result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)  # a bad marker fails its own test, in its setup
    result.stdout.fnmatch_lines(["*@pytest.mark.ycr_fault: code: *"])


SENT = """
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb


def test_what_was_deleted(ycr_image, ycr_stubs, ycr_sent):
    images = [ycr_image(tags=[f"v{n}"]) for n in range(3)]
    for image in reversed(images[1:]):
        ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=image.id))
    assert sorted(ycr_sent("ImageService/Delete", "image_id")) == sorted(i.id for i in images[1:])
    assert ycr_sent("Get", "image_id") == []
"""


def test_the_ycr_sent_helper_asserts_what_was_sent(pytester):
    pytester.makepyfile(test_sent=SENT)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)


# ---- #24: recorded calls of a misspelled method or field are refused, not [] -------------------------


def test_calls_of_a_misspelled_method_is_refused_naming_it(emulator):
    """Found by a new user: calls_of("ImageService/Delet") answered [] after a real Delete, so an
    ``assert ... == []`` passed vacuously. A name no served method or service has is a ValueError."""
    for name, problem in (
        ("ImageService/Delet", "ImageService has no method 'Delet'"),
        ("ImageServic", "'ImageServic' is neither a served service nor a method of one"),
        ("ImageServic/Delete", "'ImageServic/Delete' names no served service"),
        ("Delet", "'Delet' is neither a served service nor a method of one"),
    ):
        with pytest.raises(ValueError, match=re.escape(problem)):
            emulator.calls_of(name)
    assert emulator.calls_of("Delete") == emulator.calls_of("ImageService/Delete") == []  # real names: fine


def test_the_control_plane_refuses_a_misspelled_method_too():
    from emulator.control.process import EmulatorProcess

    with EmulatorProcess() as process:
        with pytest.raises(ValueError, match=re.escape("ImageService has no method 'Delet'")):
            process.calls_of("ImageService/Delet")
        with pytest.raises(ValueError, match="method: must be a method or a service"):  # found by review: all calls
            process.calls_of("")


SENT_MISSPELLED = """
import pytest


def test_misspelled(ycr_sent):
    with pytest.raises(ValueError, match="ImageService has no method 'Delet'"):
        ycr_sent("ImageService/Delet", "image_id")
    with pytest.raises(ValueError, match="imageId: not a field of .*DeleteImageRequest .*image_id"):
        ycr_sent("ImageService/Delete", "imageId")
    with pytest.raises(ValueError, match="tag: not a field of any request of Delete"):
        ycr_sent("Delete", "tag")
    assert ycr_sent("Delete", "image_id") == []
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_ycr_sent_refuses_a_misspelled_method_or_field(pytester, mode):
    """Found by a new user: ycr_sent("ImageService/Delete", "imageId") answered [None] per call."""
    pytester.makepyfile(test_misspelled=SENT_MISSPELLED)
    pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly").assert_outcomes(passed=1)


# ---- the unhappy-paths page's recipes, run as written ---------------------------------------------------

DOC_FAULTS_SDK = """\
import yandexcloud
from emulator import Emulator
from yandex.cloud.containerregistry.v1.image_service_pb2 import ListImagesRequest
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

with Emulator(tls=True) as emulator:
    registry = emulator.add_registry("b1g0000000000000test")
    emulator.add_image(registry.id, "app")
    sdk = yandexcloud.SDK(endpoint=emulator.endpoint, root_certificates=emulator.ca_pem, iam_token="t1.x",
                          retry_policy=yandexcloud.RetryPolicy())
    with emulator.add_fault(method="ImageService/List", code="UNAVAILABLE", count=1):
        page = sdk.client(ImageServiceStub).List(ListImagesRequest(registry_id=registry.id))
    print(len(page.images), [call["code"] for call in emulator.calls_of("ImageService/List")])
    # 1 ['UNAVAILABLE', 'OK']: the SDK's retry policy retried the injected failure
"""

DOC_FAULTS_CURL = """\
curl -s -XPOST localhost:8081/faults -d '{"method": "ImageService/Delete", "code": "UNAVAILABLE", "count": 2}'
curl -s 'localhost:8081/calls?method=ImageService/Delete'
"""


def test_the_sdk_fault_recipe_prints_what_it_says(capsys):
    assert_on_page("unhappy-paths.md", DOC_FAULTS_SDK=DOC_FAULTS_SDK)
    exec(compile(DOC_FAULTS_SDK, "docs/unhappy-paths.md", "exec"), {})
    assert capsys.readouterr().out == "1 ['UNAVAILABLE', 'OK']\n"


def test_the_control_plane_fault_recipe_runs_as_written():
    assert_on_page("unhappy-paths.md", DOC_FAULTS_CURL=DOC_FAULTS_CURL)
    with Emulator(admin_port=0) as emulator:
        port = emulator.admin_url.rsplit(":", 1)[1]
        script = DOC_FAULTS_CURL.replace("8081", port)
        run = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=30, check=True)
        rule, end = json.JSONDecoder().raw_decode(run.stdout)  # curl -s adds no newline: one JSON after the other
        assert rule["method"].endswith("ImageService/Delete") and rule["count"] == 2, rule
        assert [fault["id"] for fault in emulator.faults] == [rule["id"]]
        assert json.loads(run.stdout[end:]) == []  # no Delete was called


DOC_FAULTS_PYTEST = """\
# test_failures.py -- the plugin's faults: one test's rules, and what was sent
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


@pytest.mark.ycr_fault(method="ImageService/Delete", code="UNAVAILABLE", count=1)
def test_a_failed_delete_is_retried_by_the_sdk(ycr, ycr_image, ycr_sdk, ycr_sent):
    image = ycr_image("team/web")
    ycr_sdk.client(ImageServiceStub).Delete(pb.DeleteImageRequest(image_id=image.id))
    assert [call["code"] for call in ycr.calls_of("ImageService/Delete")] == ["UNAVAILABLE", "OK"]
    assert ycr_sent("ImageService/Delete", "image_id") == [image.id]   # the calls answered OK


@pytest.mark.ycr_fault(method="ImageService/Delete", operation_error={"code": "INTERNAL", "message": "disk"})
def test_a_delete_whose_operation_fails_keeps_the_image(ycr, ycr_image, ycr_stubs, ycr_wait):
    image = ycr_image("team/web")
    operation = ycr_wait(ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=image.id)))
    assert (operation.error.code, operation.error.message) == (13, "disk")   # 13: INTERNAL
    assert image.id in ycr.images
"""


def test_the_pytest_fault_example_passes_and_its_faults_are_what_it_tests(pytester):
    """In process (the ycr_fault marker in every mode: test_the_ycr_fault_marker_in_every_mode)."""
    assert_on_page("unhappy-paths.md", DOC_FAULTS_PYTEST=DOC_FAULTS_PYTEST)
    pytester.makepyfile(test_failures=DOC_FAULTS_PYTEST)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)
    without_faults = DOC_FAULTS_PYTEST.replace("@pytest.mark.ycr_fault", "# @pytest.mark.ycr_fault")
    pytester.makepyfile(test_failures=without_faults)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(failed=2)
