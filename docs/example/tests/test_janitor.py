"""The janitor's tests: each gets an emptied emulator from the ycr-emulator plugin and calls it through
the official SDK (ycr_sdk), over TLS with a token, as the janitor calls Cloud Registry in production."""

import grpc
import pytest

from janitor import clean

FOLDER = "b1g0000000000000ycrt"  # the folder the plugin's test token may touch under strict auth
OLD = "2025-01-01T00:00:00Z"  # older than 30 days whenever the tests run
DAY = 24 * 3600
LIST = "cloudregistry.ArtifactService/List"
DELETE = "cloudregistry.ArtifactService/Delete"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


# A Cloud Registry Docker registry: the seed's ids and digests make the paths below predictable.
SEED = {"registries": [{"id": "apps", "folder_id": FOLDER, "name": "apps", "kind": "DOCKER", "images": [
    {"id": "tagged", "repository": "team/web", "digest": digest(1), "tags": ["latest"], "created_at": OLD},
    {"id": "oldweb", "repository": "team/web", "digest": digest(2), "created_at": OLD},
    {"id": "oldapi", "repository": "team/api", "digest": digest(3), "created_at": OLD},
    {"id": "newapi", "repository": "team/api", "digest": digest(4)},  # made now: young
]}]}  # fmt: skip
OLD_WEB, OLD_API = f"team/web/{digest(2)}", f"team/api/{digest(3)}"


@pytest.fixture
def registry(ycr):
    """An empty Cloud Registry Docker registry, for tests that add their own images."""
    return ycr.add_registry(FOLDER, name="empty", kind="DOCKER")


@pytest.mark.ycr_seed(SEED)
def test_old_untagged_images_go_and_the_rest_stay(ycr, ycr_sdk, ycr_sent):
    report = clean(ycr_sdk, "apps", days=30)
    assert sorted(ycr_sent(DELETE, "artifact_id")) == ["oldapi", "oldweb"]
    assert sorted(ycr.images) == ["newapi", "tagged"]
    assert sorted(report.deleted) == sorted([OLD_WEB, OLD_API]) and report.failed == {}
    assert str(report) == "deleted 2 of 2 untagged images, 0 failed"


@pytest.mark.ycr_seed(SEED)
def test_a_dry_run_deletes_nothing(ycr, ycr_sdk, ycr_sent):
    report = clean(ycr_sdk, "apps", dry_run=True)
    assert sorted(report.old_untagged) == sorted([OLD_WEB, OLD_API]) and report.deleted == []
    assert ycr_sent(DELETE, "artifact_id", code=None) == []  # not one Delete was sent, refused or not
    assert len(ycr.images) == 4
    assert str(report) == "dry run: would delete 2 untagged images"


def test_age_is_measured_on_the_emulators_clock(ycr, ycr_sdk, registry):
    image = ycr.add_image(registry.id, "team/web")  # untagged, made at the emulator's now
    ycr.advance_time(29 * DAY)
    assert clean(ycr_sdk, registry.id, days=30, now=ycr.now).old_untagged == []
    ycr.advance_time(2 * DAY)
    assert clean(ycr_sdk, registry.id, days=30, now=ycr.now).deleted == [f"team/web/{image.digest}"]
    assert ycr.images == {}


def test_every_page_is_read_before_anything_is_deleted(ycr, ycr_sdk, ycr_sent, registry):
    for n in range(5):
        ycr.add_image(registry.id, f"team/svc{n}", created_at=OLD)
    report = clean(ycr_sdk, registry.id, page_size=2)
    assert len(ycr_sent(LIST, "registry_id")) == 3  # 2 + 2 + 1
    assert len(report.deleted) == 5 and ycr.images == {}


@pytest.mark.ycr_seed(SEED)
@pytest.mark.ycr_fault(method=LIST, code="UNAVAILABLE", count=2)
def test_a_flaky_list_is_retried_by_the_sdks_retry_policy(ycr, ycr_sdk):
    report = clean(ycr_sdk, "apps")
    assert [call["code"] for call in ycr.calls_of(LIST)] == ["UNAVAILABLE", "UNAVAILABLE", "OK"]
    assert sorted(report.deleted) == sorted([OLD_WEB, OLD_API])


@pytest.mark.ycr_seed(SEED)
@pytest.mark.ycr_fault(method=LIST, code="UNAVAILABLE")  # every call: the service is down
def test_a_list_that_keeps_failing_fails_the_run(ycr, ycr_sdk, ycr_sent):
    with pytest.raises(grpc.RpcError) as failed:
        clean(ycr_sdk, "apps")
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ycr_sent(DELETE, "artifact_id", code=None) == [] and len(ycr.images) == 4


@pytest.mark.ycr_seed(SEED)
@pytest.mark.ycr_fault(method=DELETE, match={"artifact_id": "oldweb"}, code="PERMISSION_DENIED")
def test_a_refused_delete_is_reported_and_the_others_go_on(ycr, ycr_sdk):
    report = clean(ycr_sdk, "apps")
    assert report.failed == {OLD_WEB: "PERMISSION_DENIED"} and report.deleted == [OLD_API]
    assert sorted(ycr.images) == ["newapi", "oldweb", "tagged"]


@pytest.mark.ycr_seed(SEED)
@pytest.mark.ycr_fault(method=DELETE, match={"artifact_id": "oldapi"}, operation_error={"code": "INTERNAL"})
def test_a_delete_whose_operation_fails_is_reported(ycr, ycr_sdk):
    report = clean(ycr_sdk, "apps")
    assert report.failed == {OLD_API: "operation failed"} and report.deleted == [OLD_WEB]
    assert sorted(ycr.images) == ["newapi", "oldapi", "tagged"]


@pytest.mark.ycr_operations(f"{DELETE}=polls:2")  # done on its second OperationService.Get (the SDK's wait: 1 s)
def test_the_janitor_waits_for_pending_deletes(ycr, ycr_sdk, registry):
    image = ycr.add_image(registry.id, "team/web", created_at=OLD)
    report = clean(ycr_sdk, registry.id)
    assert len(ycr.calls_of("OperationService/Get")) == 2  # polled until done
    assert report.deleted == [f"team/web/{image.digest}"] and ycr.images == {}
