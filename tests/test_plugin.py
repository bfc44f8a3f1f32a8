"""The pytest plugin, exercised as a downstream project uses it: small test files in a
fresh directory with no conftest, run by pytest in a subprocess (pytester)."""

from __future__ import annotations

import pytest

from emulator.remote import EmulatorProcess

DOWNSTREAM = '''
import grpc
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb


def test_lists_what_it_added(ycr, ycr_registry, ycr_image, ycr_stubs):
    image = ycr_image("team/web", tags=["latest"])
    page = ycr_stubs.images.List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert [i.id for i in page.images] == [image.id]
    assert list(page.images[0].tags) == ["latest"]
    assert set(ycr.images) == {image.id}


def test_repositories_and_registries_through_the_stubs(ycr, ycr_registry, ycr_repository, ycr_stubs):
    from yandex.cloud.containerregistry.v1 import registry_service_pb2, repository_service_pb2
    kept = ycr_repository("team/empty")
    page = ycr_stubs.repositories.List(repository_service_pb2.ListRepositoriesRequest(registry_id=ycr_registry.id))
    assert [(r.id, r.name) for r in page.repositories] == [(kept.id, f"{ycr_registry.id}/team/empty")]
    got = ycr_stubs.registries.Get(registry_service_pb2.GetRegistryRequest(registry_id=ycr_registry.id))
    assert got.name == ycr_registry.name
    assert set(ycr.repositories) == {kept.id}


def test_sees_nothing_of_the_previous_test(ycr, ycr_stubs):
    assert ycr.images == {}
    assert ycr.registries == {}


def test_delete_through_a_plain_channel(ycr, ycr_image, ycr_channel):
    from yandex.cloud.containerregistry.v1 import image_service_pb2_grpc
    image = ycr_image()
    stub = image_service_pb2_grpc.ImageServiceStub(ycr_channel)
    operation = stub.Delete(pb.DeleteImageRequest(image_id=image.id))
    assert operation.done
    assert image.id not in ycr.images
    assert operation.id in ycr.operations


def test_bad_arguments_raise_value_error(ycr, ycr_registry):
    import pytest
    with pytest.raises(ValueError, match="digest"):
        ycr.add_image(ycr_registry.id, "app", digest="md5:nope")
    assert ycr.images == {}
'''

ENDPOINTS = '''
import os
import pytest

@pytest.mark.parametrize("n", range(6))
def test_record_endpoint(ycr, ycr_image, n, tmp_path_factory):
    ycr_image("app", tags=[f"t{n}"])
    assert len(ycr.images) == 1
    folder = os.environ["ENDPOINTS_DIR"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(folder, f"{worker}-{n}"), "w") as f:
        f.write(ycr.endpoint)
'''


def _passed(result, count: int) -> None:
    result.assert_outcomes(passed=count)


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_a_downstream_suite_needs_no_conftest(pytester, mode):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    assert not list(pytester.path.glob("conftest.py"))
    result = pytester.runpytest_subprocess("-p", "no:randomly", f"--ycr-mode={mode}")
    _passed(result, 5)


def test_the_mode_can_come_from_the_ini_file(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    pytester.makeini("[pytest]\nycr_mode = subprocess\n")
    probe = 'def test_mode(ycr):\n    from emulator.remote import EmulatorProcess\n    assert isinstance(ycr, EmulatorProcess)\n'
    pytester.makepyfile(test_probe=probe)
    _passed(pytester.runpytest_subprocess(), 6)


def test_against_an_already_running_emulator(pytester, monkeypatch):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    with EmulatorProcess() as running:
        running.add_registry("b1gleftover")  # the plugin resets it before each test
        monkeypatch.setenv("YCR_EMULATOR_ADDRESS", running.endpoint)
        monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", running.admin_url)
        _passed(pytester.runpytest_subprocess(), 5)


def test_external_mode_refuses_to_share_one_emulator_between_workers(pytester, monkeypatch):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    monkeypatch.setenv("YCR_EMULATOR_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("YCR_EMULATOR_ADMIN_URL", "http://127.0.0.1:1")
    result = pytester.runpytest_subprocess("-n", "2")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*external mode shares one emulator*"])


def test_external_mode_without_an_address_is_a_usage_error(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    result = pytester.runpytest_subprocess("--ycr-mode=external")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*needs --ycr-address*"])


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_each_xdist_worker_gets_its_own_emulator(pytester, tmp_path, monkeypatch, mode):
    pytester.makepyfile(test_endpoints=ENDPOINTS)
    monkeypatch.setenv("ENDPOINTS_DIR", str(tmp_path))
    _passed(pytester.runpytest_subprocess("-n", "2", f"--ycr-mode={mode}"), 6)
    by_worker: dict[str, set[str]] = {}
    for record in tmp_path.iterdir():
        by_worker.setdefault(record.name.split("-")[0], set()).add(record.read_text())
    assert set(by_worker) == {"gw0", "gw1"}
    assert all(len(endpoints) == 1 for endpoints in by_worker.values())
    assert by_worker["gw0"] != by_worker["gw1"]


def test_ycr_stubs_skips_without_the_sdk(pytester):
    pytester.makepyfile(
        test_nosdk='''
import sys
sys.modules["yandex.cloud.containerregistry.v1.image_service_pb2_grpc"] = None

def test_needs_sdk(ycr_stubs):
    raise AssertionError("not reached")
'''
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(skipped=1)


SDK_DOWNSTREAM = '''
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


def test_the_sdk_fixture(ycr_sdk, ycr_registry, ycr_image):
    image = ycr_image("app")
    images = ycr_sdk.client(ImageServiceStub)
    assert [i.id for i in images.List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images] == [image.id]
    operation = images.Delete(pb.DeleteImageRequest(image_id=image.id))
    result = ycr_sdk.wait_operation_and_get_result(operation, meta_type=pb.DeleteImageMetadata)
    assert result.meta.image_id == image.id


def test_auth_can_be_tightened_for_one_test(ycr, ycr_sdk, ycr_registry):
    ycr.configure_auth("strict", {"someone-else": None})
    with pytest.raises(grpc.RpcError) as caught:
        ycr_sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=ycr_registry.id))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_and_the_next_test_has_the_default_again(ycr_sdk, ycr_registry):
    assert ycr_sdk.client(ImageServiceStub).List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images == []
'''


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_the_official_sdk_fixture(pytester, mode):
    pytester.makepyfile(test_sdk_downstream=SDK_DOWNSTREAM)
    _passed(pytester.runpytest_subprocess("-p", "no:randomly", f"--ycr-mode={mode}"), 3)


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_strict_auth_from_the_ini_file(pytester, mode):
    pytester.makeini(
        "[pytest]\nycr_auth = strict\nycr_tokens =\n    t1.ycr-test-token=b1g0000000000000ycrt\n"
    )
    pytester.makepyfile(
        test_strict='''
import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub


def test_only_the_configured_folder(ycr, ycr_sdk, ycr_registry):
    images = ycr_sdk.client(ImageServiceStub)
    assert images.List(pb.ListImagesRequest(registry_id=ycr_registry.id)).images == []
    other = ycr.add_registry("b1gsomeoneelsesfolder")
    with pytest.raises(grpc.RpcError) as caught:
        images.List(pb.ListImagesRequest(registry_id=other.id))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
'''
    )
    _passed(pytester.runpytest_subprocess(f"--ycr-mode={mode}"), 1)


def test_an_empty_folder_list_in_ycr_tokens_is_a_usage_error(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    pytester.makeini("[pytest]\nycr_auth = strict\nycr_tokens =\n    t1.ycr-test-token=\n")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*ycr_tokens: token spec*folder list*"])


OPERATION_MODES = """
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.operation import operation_service_pb2 as op


def delete_and_poll(ycr_stubs, image):
    operation = ycr_stubs.images.Delete(pb.DeleteImageRequest(image_id=image.id))
    states = [operation.done]
    while not states[-1] and len(states) < 10:
        states.append(ycr_stubs.operations.Get(op.GetOperationRequest(operation_id=operation.id)).done)
    return states


def test_the_ini_mode(ycr, ycr_image, ycr_stubs):
    assert ycr.operation_modes == {"*": "polls:2"}
    assert delete_and_poll(ycr_stubs, ycr_image()) == [False, False, True]


@pytest.mark.ycr_operations("ImageService/Delete=polls:3")
def test_the_marker_wins_for_its_method(ycr, ycr_image, ycr_stubs):
    assert ycr.operation_modes == {"*": "polls:2", "ImageService/Delete": "polls:3"}
    assert delete_and_poll(ycr_stubs, ycr_image()) == [False, False, False, True]


def test_the_next_test_is_back_to_the_ini_mode(ycr):
    assert ycr.operation_modes == {"*": "polls:2"}
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_operation_modes_from_the_ini_option_and_a_marker(pytester, mode):
    pytester.makepyfile(test_modes=OPERATION_MODES)
    pytester.makeini("[pytest]\nycr_operations =\n    polls:2\n")
    _passed(pytester.runpytest_subprocess("-p", "no:randomly", f"--ycr-mode={mode}"), 3)


def test_a_bad_operation_mode_is_a_usage_error(pytester):
    pytester.makepyfile(test_modes=OPERATION_MODES)
    pytester.makeini("[pytest]\nycr_operations =\n    polls:zero\n")
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*ycr_operations: operation mode*"])
