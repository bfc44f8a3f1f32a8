"""LifecyclePolicyService through the wire: what Terraform and the SDKs rely on, every documented
rule of what a policy deletes, dry runs and runs (on demand and on the emulator's clock), and the
policies' place in the state (seeds, the state file, cascades).

"Documented:" names what production's documentation says; "The emulator's choice:" what it leaves
open (docs/container-registry.md, "Lifecycle policies")."""

from __future__ import annotations

import json
import subprocess
import warnings
from datetime import datetime, timezone

import grpc
import pytest
import yandexcloud
from google.protobuf import duration_pb2, field_mask_pb2
from yandex.cloud.containerregistry.v1 import image_service_pb2 as image_pb
from yandex.cloud.containerregistry.v1 import lifecycle_policy_pb2 as policy_pb
from yandex.cloud.containerregistry.v1 import lifecycle_policy_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.containerregistry.v1.lifecycle_policy_service_pb2_grpc import LifecyclePolicyServiceStub
from yandex.cloud.operation import operation_service_pb2 as operation_pb
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from conftest import rpc_error, violation_fields
from emulator import Emulator
from emulator.control.process import EmulatorProcess
from emulator.state.clock import Clock
from tests.support.docs import assert_on_page
from tests.support.exercised import assert_exercised

FOLDER = "b1g0000000000lifecycle"
DAY = 86_400
START = datetime(2026, 6, 1, tzinfo=timezone.utc)
ACTIVE, DISABLED = policy_pb.LifecyclePolicy.ACTIVE, policy_pb.LifecyclePolicy.DISABLED


@pytest.fixture(scope="module")
def lifecycle_emulator():
    with Emulator(clock=Clock(START), tls=True) as emulator:  # TLS: the SDK takes nothing else
        yield emulator


@pytest.fixture
def ycr(lifecycle_emulator):
    lifecycle_emulator.reset()
    return lifecycle_emulator


@pytest.fixture(scope="module")
def policies(lifecycle_emulator):
    return LifecyclePolicyServiceStub(lifecycle_emulator.channel())


@pytest.fixture(scope="module")
def image_stub(lifecycle_emulator):
    return ImageServiceStub(lifecycle_emulator.channel())


def _days_ago(days: float) -> str:
    return datetime.fromtimestamp(START.timestamp() - days * DAY, timezone.utc).isoformat()


def _repository(ycr, images: list[tuple[list[str], float]], path: str = "app"):
    """A repository holding images (tags, age in days); returns (repository id, image ids by first tag or age)."""
    registry = ycr.add_registry(FOLDER)
    ids = {}
    for number, (tags, age) in enumerate(images):
        image = ycr.add_image(registry.id, path, tags=tags, created_at=_days_ago(age), digest=f"sha256:{number:064x}")
        ids[tags[0] if tags else f"untagged-{age:g}"] = image.id
    repository = ycr.add_repository(registry.id, path)
    return repository.id, ids


def _rule(**fields) -> policy_pb.LifecycleRule:
    if "expire_days" in fields:
        fields["expire_period"] = duration_pb2.Duration(seconds=fields.pop("expire_days") * DAY)
    return policy_pb.LifecycleRule(**fields)


def _create(policies, repository_id, *rules, status=DISABLED, name="policy", metadata=()):
    operation = policies.Create(
        pb.CreateLifecyclePolicyRequest(repository_id=repository_id, name=name, status=status, rules=list(rules)),
        metadata=metadata,
    )
    created = pb.CreateLifecyclePolicyMetadata()
    operation.metadata.Unpack(created)
    return operation, created.lifecycle_policy_id


def _dry_run(policies, policy_id) -> list[str]:
    """What a dry run of the policy finds: the affected images' first tags (or ids), oldest first."""
    operation = policies.DryRun(pb.DryRunLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    result = pb.DryRunLifecyclePolicyResult()
    operation.response.Unpack(result)
    affected = policies.ListDryRunResultAffectedImages(
        pb.ListDryRunLifecyclePolicyResultAffectedImagesRequest(
            dry_run_lifecycle_policy_result_id=result.dry_run_lifecycle_policy_result_id,
            order_by="created_at",
            page_size=1000,
        )
    ).affected_images
    assert result.affected_images_count == len(affected)
    return [image.tags[0] if image.tags else image.id for image in affected]


# ---- what Terraform's provider relies on ---------------------------------------------------------


@pytest.mark.behaviour(
    "LifecyclePolicyService/Create",
    "documented",
    "Create, Get, Update and Delete answer as Terraform's provider reads them; Create's metadata names the policy at once.",
    "https://github.com/yandex-cloud/terraform-provider-yandex/blob/master/yandex/resource_yandex_container_repository_lifecycle_policy.go",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/Get",
    "documented",
    "Create, Get, Update and Delete answer as Terraform's provider reads them; Create's metadata names the policy at once.",
    "https://github.com/yandex-cloud/terraform-provider-yandex/blob/master/yandex/resource_yandex_container_repository_lifecycle_policy.go",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/Update",
    "documented",
    "Create, Get, Update and Delete answer as Terraform's provider reads them; Create's metadata names the policy at once.",
    "https://github.com/yandex-cloud/terraform-provider-yandex/blob/master/yandex/resource_yandex_container_repository_lifecycle_policy.go",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/Delete",
    "documented",
    "Create, Get, Update and Delete answer as Terraform's provider reads them; Create's metadata names the policy at once.",
    "https://github.com/yandex-cloud/terraform-provider-yandex/blob/master/yandex/resource_yandex_container_repository_lifecycle_policy.go",
)
def test_terraform_create_get_update_delete(ycr, policies):
    """Documented (the provider's code): Create's metadata names the policy on the first answer,
    before it is done; expire_period "24h" reads back as 24h; Update sends only the changed fields
    in its mask, without a status unless it changed; a deleted policy's Get is NOT_FOUND."""
    ycr.configure_operations("LifecyclePolicyService/Create=polls:2")
    repository_id, _ = _repository(ycr, [(["v1"], 3)])
    operation, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1))
    assert not operation.done and policy_id
    got = policies.Get(pb.GetLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    assert got.rules[0].expire_period == duration_pb2.Duration(seconds=DAY)
    assert (got.status, got.repository_id, got.name) == (DISABLED, repository_id, "policy")
    update = pb.UpdateLifecyclePolicyRequest(
        lifecycle_policy_id=policy_id,
        update_mask=field_mask_pb2.FieldMask(paths=["description", "rules"]),
        description="nightly",
        rules=[_rule(untagged=True, retained_top=2)],
    )
    done = policy_pb.LifecyclePolicy()
    policies.Update(update).response.Unpack(done)
    assert done.description == "nightly" and done.status == DISABLED  # status untouched without it in the mask
    assert [(rule.untagged, rule.retained_top, rule.tag_regexp) for rule in done.rules] == [(True, 2, "")]
    policies.Delete(pb.DeleteLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    error = rpc_error(policies.Get, pb.GetLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.behaviour(
    "LifecyclePolicyService/List",
    "documented",
    "List finds a repository's policies by name, as Terraform's data source asks.",
    "https://github.com/yandex-cloud/terraform-provider-yandex/blob/master/yandex/data_source_yandex_container_repository_lifecycle_policy.go",
)
def test_the_data_source_lists_a_repositorys_policies_by_name(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    ids = [_create(policies, repository_id, name=name)[1] for name in ("b-policy", "a-policy", "c-policy")]
    listed = policies.List(
        pb.ListLifecyclePoliciesRequest(repository_id=repository_id, order_by="name")
    ).lifecycle_policies
    assert [policy.name for policy in listed] == ["a-policy", "b-policy", "c-policy"]
    only = policies.List(pb.ListLifecyclePoliciesRequest(repository_id=repository_id, filter='name = "c-policy"'))
    assert [policy.id for policy in only.lifecycle_policies] == [ids[2]]


# ---- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (_rule(tag_regexp=".*", expire_period=duration_pb2.Duration(seconds=3600)), "rules[0].expire_period"),
        (_rule(tag_regexp=".*", expire_period=duration_pb2.Duration(seconds=36 * 3600)), "rules[0].expire_period"),
        (_rule(expire_days=2), "rules[0]"),  # no tag filter
        (_rule(tag_regexp="v.*"), "rules[0]"),  # no delete condition
        (_rule(tag_regexp="(", retained_top=1), "rules[0].tag_regexp"),
        (_rule(tag_regexp="x" * 257, retained_top=1), "rules[0].tag_regexp"),
        (_rule(tag_regexp=".*", retained_top=-1), "rules[0].retained_top"),
        (_rule(tag_regexp=".*", retained_top=1, description="d" * 257), "rules[0].description"),
    ],
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/Create",
    "documented",
    "A rule needs a tag filter and a delete condition; expire_period is a multiple of 24 hours, at least 24: else INVALID_ARGUMENT naming the rule.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/lifecycle-policy.md; yandex/cloud/containerregistry/v1/lifecycle_policy.proto (expire_period >=24h, a multiple of 24 hours)",
)
def test_a_rule_production_refuses_is_invalid_argument_naming_it(ycr, policies, rule, field):
    """Documented: expire_period >= 24h and a multiple of 24 hours; a rule needs a tag filter and a
    delete condition. Nothing is created."""
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    error = rpc_error(_create, policies, repository_id, rule)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {field}
    assert ycr.lifecycle_policies == {}


@pytest.mark.behaviour(
    "LifecyclePolicyService/Create",
    "documented",
    "Requests are checked by their annotations.",
    "yandex/cloud/containerregistry/v1/lifecycle_policy_service.proto",
)
def test_requests_are_checked_by_their_annotations(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    cases = [
        (pb.CreateLifecyclePolicyRequest(repository_id=repository_id, status=DISABLED, name="Bad_Name"), "name"),
        (pb.CreateLifecyclePolicyRequest(repository_id=repository_id), "status"),
        (pb.CreateLifecyclePolicyRequest(status=DISABLED), "repository_id"),
        (
            pb.CreateLifecyclePolicyRequest(repository_id=repository_id, status=DISABLED, description="d" * 257),
            "description",
        ),
    ]
    for request, field in cases:
        error = rpc_error(policies.Create, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {field}, request
    error = rpc_error(policies.List, pb.ListLifecyclePoliciesRequest())
    assert violation_fields(error) == {"id"}  # the oneof of registry_id and repository_id: exactly one
    assert ycr.lifecycle_policies == {}


@pytest.mark.behaviour(
    "LifecyclePolicyService/Update",
    "choice",
    "status is required only when update_mask names it; an unknown mask path is INVALID_ARGUMENT.",
    "the annotation marks status required, but Terraform's provider sends Updates without it",
)
def test_an_update_naming_status_needs_one_and_an_unknown_mask_path_is_refused(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    _, policy_id = _create(policies, repository_id)
    mask = field_mask_pb2.FieldMask
    for request, field in [
        (pb.UpdateLifecyclePolicyRequest(lifecycle_policy_id=policy_id, update_mask=mask(paths=["status"])), "status"),
        (pb.UpdateLifecyclePolicyRequest(lifecycle_policy_id=policy_id, update_mask=mask(paths=["id"])), "update_mask"),
    ]:
        error = rpc_error(policies.Update, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {field}


@pytest.mark.behaviour(
    "LifecyclePolicyService/Create",
    "documented",
    "A repository has one ACTIVE policy and any number of DISABLED ones.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/lifecycle-policy.md (A repository can only have one active policy)",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/Update",
    "choice",
    "A second ACTIVE policy, at Create or Update, is FAILED_PRECONDITION naming the active one.",
    "the code production answers is not public",
)
def test_a_repository_has_at_most_one_active_policy(ycr, policies):
    """Documented: one ACTIVE policy per repository, any number of DISABLED ones. The emulator's
    choice: a second ACTIVE one is FAILED_PRECONDITION, at Create and at Update, nothing changed."""
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    _create(policies, repository_id, status=ACTIVE, name="first")
    for name in ("second", "third"):
        _create(policies, repository_id, name=name)
    error = rpc_error(_create, policies, repository_id, status=ACTIVE, name="fourth")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "already has an ACTIVE" in error.details()
    disabled = next(p for p in ycr.lifecycle_policies.values() if p.name == "second")
    activate = pb.UpdateLifecyclePolicyRequest(
        lifecycle_policy_id=disabled.id, update_mask=field_mask_pb2.FieldMask(paths=["status"]), status=ACTIVE
    )
    assert rpc_error(policies.Update, activate).code() == grpc.StatusCode.FAILED_PRECONDITION
    assert sorted(p.status for p in ycr.lifecycle_policies.values()) == ["ACTIVE", "DISABLED", "DISABLED"]


# ---- what a policy deletes -------------------------------------------------------------------------


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "documented",
    "retained_top filtered images are kept even when expired.",
    "yandex/cloud/containerregistry/v1/lifecycle_policy.proto (retained_top: Number of Docker images (falling under the specified filter by tags) that must be left, even if the expire_period has already expired)",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "choice",
    "The retained_top images kept are the newest by created_at.",
    "the proto says how many are left, not which",
)
def test_retained_top_keeps_the_newest_filtered_images_even_when_expired(ycr, policies):
    """Documented: retained_top images falling under the tag filter are left even if expired. The
    emulator's choice: the newest by creation time."""
    repository_id, _ = _repository(ycr, [([f"v{n}"], 100 - n) for n in range(5)] + [(["other"], 200)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp="v.*", expire_days=1, retained_top=2))
    assert _dry_run(policies, policy_id) == ["v0", "v1", "v2"]  # v3, v4 newest; "other" not filtered


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "documented",
    "expire_period counts from an image's creation.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/lifecycle-policy.md",
)
def test_expire_period_counts_from_creation(ycr, policies):
    repository_id, _ = _repository(ycr, [(["old"], 31), (["edge"], 30), (["new"], 29)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=30))
    assert _dry_run(policies, policy_id) == ["old", "edge"]  # exactly 30 days old: expired
    ycr.advance_time(DAY)
    assert _dry_run(policies, policy_id) == ["old", "edge", "new"]


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "choice",
    "tag_regexp must match a whole tag, any tag of an image; it is Python's `re`.",
    "the documented examples (`test.*` for tags starting with test) read so",
)
def test_tag_regexp_matches_a_whole_tag_and_any_tag_of_an_image(ycr, policies):
    """The emulator's choice (the documentation's examples read so): `test.*` takes tags starting
    with test, `prod` only the tag prod; an image is filtered when any of its tags matches."""
    repository_id, ids = _repository(
        ycr, [(["prod"], 10), (["prod-1"], 10), (["preprod"], 10), (["latest", "test-7"], 10), (["testing"], 10)]
    )
    _, prod = _create(policies, repository_id, _rule(tag_regexp="prod", expire_days=1), name="prod")
    assert _dry_run(policies, prod) == ["prod"]
    _, test = _create(policies, repository_id, _rule(tag_regexp="test.*", expire_days=1), name="test")
    assert sorted(_dry_run(policies, test)) == ["latest", "testing"]


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "documented",
    "untagged filters the images without tags.",
    "yandex/cloud/containerregistry/v1/lifecycle_policy.proto",
)
def test_untagged_filters_images_without_tags(ycr, policies):
    repository_id, ids = _repository(ycr, [([], 5), (["v1"], 5), ([], 1)])
    _, policy_id = _create(policies, repository_id, _rule(untagged=True, expire_days=2))
    assert _dry_run(policies, policy_id) == [ids["untagged-5"]]
    _, both = _create(policies, repository_id, _rule(untagged=True, tag_regexp="v.*", expire_days=2), name="both")
    assert sorted(_dry_run(policies, both)) == sorted([ids["untagged-5"], "v1"])  # either filter takes an image


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "documented",
    "An image several rules filter goes only if every one of them requires it.",
    "https://github.com/yandex-cloud/docs/blob/master/en/container-registry/concepts/lifecycle-policy.md",
)
def test_an_image_several_rules_filter_goes_only_if_every_one_requires_it(ycr, policies):
    """Documented: deleted only if all the rules it falls under require it."""
    repository_id, _ = _repository(ycr, [(["v1"], 50), (["v2"], 40), (["v3"], 5), (["x1"], 50)])
    rules = [_rule(tag_regexp="v.*", expire_days=30), _rule(tag_regexp="v1|x1", retained_top=1)]
    _, policy_id = _create(policies, repository_id, *rules)
    # v1: old (rule 1) but the newest of rule 2's (v1, x1 tie on age: x1 is newer by id order? no: by
    # creation, equal; ties broken by id) -- so compute: rule 2 keeps one of v1/x1, deletes the other.
    found = _dry_run(policies, policy_id)
    assert "v2" in found and "v3" not in found
    assert len({"v1", "x1"} & set(found)) == 1  # rule 2 keeps one of its two; the other goes if rule 1 agrees


@pytest.mark.behaviour(
    "LifecyclePolicyService/Create",
    "choice",
    "A policy without rules is allowed and deletes nothing.",
    "Terraform's acceptance test creates one",
)
def test_a_policy_without_rules_deletes_nothing(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 500)])
    _, policy_id = _create(policies, repository_id, status=ACTIVE)
    assert _dry_run(policies, policy_id) == []
    assert ycr.run_lifecycle_policies()[0].deleted == ()


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "documented",
    "A dry run checks at most 50,000 images of a repository.",
    "https://github.com/yandex-cloud/docs/blob/master/en/_includes/container-registry-limits.md (Maximum number of Docker images in a single repository that can be checked by a trial run: 50,000)",
)
@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "choice",
    "A dry run checks the oldest 50,000 images; the run itself has no such limit.",
    "the limits page does not say which images are checked; the oldest are those a policy deletes first",
)
def test_a_dry_run_checks_at_most_50000_images_of_a_repository(ycr, policies):
    """Documented: a dry run checks at most 50,000 Docker images per repository (the oldest, the
    emulator's choice); the run itself has no such limit."""
    registry = ycr.add_registry(FOLDER)
    with ycr.bulk():
        for number in range(50_001):
            ycr.add_image(registry.id, "big", digest=f"sha256:{number:064x}", created_at=_days_ago(10 + number / 1e5))
    repository = ycr.add_repository(registry.id, "big")
    _, policy_id = _create(policies, repository.id, _rule(untagged=True, expire_days=1), status=ACTIVE)
    operation = policies.DryRun(pb.DryRunLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    result = pb.DryRunLifecyclePolicyResult()
    operation.response.Unpack(result)
    assert result.affected_images_count == 50_000
    newest = policies.ListDryRunResultAffectedImages(
        pb.ListDryRunLifecyclePolicyResultAffectedImagesRequest(
            dry_run_lifecycle_policy_result_id=result.dry_run_lifecycle_policy_result_id,
            order_by="created_at desc",
            page_size=1,
        )
    ).affected_images
    assert [image.digest for image in newest] == [f"sha256:{1:064x}"]  # the newest, number 0, left out
    assert len(ycr.run_lifecycle_policies()[0].deleted) == 50_001


# ---- dry runs and their results ---------------------------------------------------------------------


@pytest.mark.behaviour(
    "LifecyclePolicyService/DryRun",
    "choice",
    "A dry run makes its result at the call; operation modes keep its operation pending.",
    "how long production takes is not public",
)
def test_a_dry_run_is_an_operation_its_modes_keep_pending(ycr, policies, lifecycle_emulator):
    ycr.configure_operations("LifecyclePolicyService/DryRun=polls:2")
    repository_id, _ = _repository(ycr, [(["v1"], 5)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1))
    operation = policies.DryRun(pb.DryRunLifecyclePolicyRequest(lifecycle_policy_id=policy_id))
    metadata = pb.DryRunLifecyclePolicyMetadata()
    operation.metadata.Unpack(metadata)
    assert not operation.done and metadata.lifecycle_policy_id == policy_id
    operations = OperationServiceStub(lifecycle_emulator.channel())
    get = operation_pb.GetOperationRequest(operation_id=operation.id)
    assert not operations.Get(get).done and operations.Get(get).done
    result = policies.GetDryRunResult(
        pb.GetDryRunLifecyclePolicyResultRequest(
            dry_run_lifecycle_policy_result_id=metadata.dry_run_lifecycle_policy_result_id
        )
    )
    assert (result.lifecycle_policy_id, result.affected_images_count) == (policy_id, 1)


@pytest.mark.behaviour(
    "LifecyclePolicyService/ListDryRunResultAffectedImages",
    "choice",
    "A result lists the images as the dry run found them, deleted ones too.",
    "a result is a record of that moment",
)
def test_a_dry_run_result_keeps_the_images_as_they_were(ycr, policies, image_stub):
    repository_id, ids = _repository(ycr, [(["v1"], 5), (["v2"], 4)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1))
    assert _dry_run(policies, policy_id) == ["v1", "v2"]
    image_stub.Delete(image_pb.DeleteImageRequest(image_id=ids["v1"]))
    results = policies.ListDryRunResults(
        pb.ListDryRunLifecyclePolicyResultsRequest(lifecycle_policy_id=policy_id)
    ).dry_run_lifecycle_policy_results
    affected = policies.ListDryRunResultAffectedImages(
        pb.ListDryRunLifecyclePolicyResultAffectedImagesRequest(
            dry_run_lifecycle_policy_result_id=results[0].dry_run_lifecycle_policy_result_id
        )
    ).affected_images
    assert sorted(image.id for image in affected) == sorted(ids.values())  # the deleted one too


@pytest.mark.behaviour(
    "LifecyclePolicyService/ListDryRunResults",
    "documented",
    "The filter names the policy: every result of the policy so named, or none.",
    "yandex/cloud/containerregistry/v1/lifecycle_policy_service.proto (filtering only on LifecyclePolicy.name)",
)
def test_dry_run_results_filter_on_their_policys_name(ycr, policies):
    """The request's documentation: filtering "only on LifecyclePolicy.name": every result of the
    policy so named, none of another's."""
    repository_id, _ = _repository(ycr, [(["v1"], 5)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1), name="nightly")
    for _ in range(3):
        _dry_run(policies, policy_id)

    def listed(filter_text: str) -> int:
        request = pb.ListDryRunLifecyclePolicyResultsRequest(lifecycle_policy_id=policy_id, filter=filter_text)
        return len(policies.ListDryRunResults(request).dry_run_lifecycle_policy_results)

    assert (listed('name = "nightly"'), listed('name != "nightly"'), listed('name = "weekly"')) == (3, 0, 0)


# ---- runs ------------------------------------------------------------------------------------------


@pytest.mark.behaviour(
    "LifecyclePolicyService",
    "choice",
    "A run deletes each image as ImageService.Delete would: a done operation each, created by `lifecycle-policy:<id>`.",
    "how production records its deletions is not public",
)
def test_an_active_policy_run_deletes_through_image_deletes(ycr, policies, image_stub, lifecycle_emulator):
    """What the rules require goes, as ImageService.Delete would: a done operation per image, with
    DeleteImageMetadata; DISABLED policies do not run."""
    repository_id, ids = _repository(ycr, [(["v1"], 10), (["v2"], 9), (["v3"], 1)])
    _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=5), status=ACTIVE)
    _create(policies, repository_id, _rule(tag_regexp=".*", retained_top=0, expire_days=1), name="off")
    [run] = ycr.run_lifecycle_policies()
    assert sorted(run.deleted) == sorted([ids["v1"], ids["v2"]]) and run.kept == ()
    assert set(ycr.images) == {ids["v3"]}
    operations = OperationServiceStub(lifecycle_emulator.channel())
    for operation_id in run.operations:
        operation = operations.Get(operation_pb.GetOperationRequest(operation_id=operation_id))
        metadata = image_pb.DeleteImageMetadata()
        assert operation.done and operation.metadata.Unpack(metadata) and metadata.image_id in run.deleted
    assert ycr.lifecycle_policies  # the repository stays, and its policies with it


def test_a_run_keeps_an_image_an_image_list_outside_it_references(ycr, policies):
    registry = ycr.add_registry(FOLDER)
    child = ycr.add_image(registry.id, "app", tags=["old"], created_at=_days_ago(9), digest=f"sha256:{1:064x}")
    ycr.add_image(registry.id, "app", tags=["index"], created_at=_days_ago(1), manifests=[child.digest])
    repository = ycr.add_repository(registry.id, "app")
    _, policy_id = _create(policies, repository.id, _rule(tag_regexp="old", expire_days=2), status=ACTIVE)
    [run] = ycr.run_lifecycle_policies(policy_id)
    assert run.deleted == () and run.kept[0][0] == child.id and "image list" in run.kept[0][1]
    assert child.id in ycr.images


def test_running_a_disabled_policy_by_id_is_refused(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 10)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1))
    with pytest.raises(ValueError, match="DISABLED"):
        ycr.run_lifecycle_policies(policy_id)
    assert len(ycr.images) == 1


@pytest.mark.behaviour(
    "LifecyclePolicyService",
    "choice",
    "ACTIVE policies run on demand or on a schedule the user sets on the emulator's clock; none by default.",
    "an ACTIVE policy 'regularly deletes' (LifecyclePolicy.Status); no schedule is public",
)
def test_policies_run_on_the_emulators_clock_when_scheduled(ycr, policies, image_stub):
    repository_id, ids = _repository(ycr, [(["v1"], 1.5), (["v2"], 0.5)])
    _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=2), status=ACTIVE)
    ycr.schedule_lifecycle_policies(DAY)
    ycr.advance_time(DAY - 1)
    image_stub.List(image_pb.ListImagesRequest(folder_id=FOLDER))
    assert len(ycr.images) == 2  # not due yet
    ycr.advance_time(1)
    listed = image_stub.List(image_pb.ListImagesRequest(folder_id=FOLDER)).images
    assert [image.id for image in listed] == [ids["v2"]]  # v1 turned two days old and went before the List
    ycr.advance_time(DAY)
    assert ycr.images == {}  # and v2 the day after
    ycr.reset()  # the schedule is a setting: back to how the emulator started (none)
    repository_id, _ = _repository(ycr, [(["v1"], 30)])
    _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=2), status=ACTIVE)
    ycr.advance_time(10 * DAY)
    assert len(ycr.images) == 1


# ---- the policies in the state -------------------------------------------------------------------


def test_policies_and_dry_runs_round_trip_through_the_state(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 10), ([], 3)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", untagged=True, expire_days=2), status=ACTIVE)
    _dry_run(policies, policy_id)
    state = ycr.state()
    with Emulator() as other:
        other.load_seed(state)
        assert other.state() == state
        assert other.lifecycle_policies == ycr.lifecycle_policies


def test_a_seed_with_a_bad_policy_loads_nothing_and_names_it(ycr):
    registry = {"id": "crpseedregistry00001", "folder_id": FOLDER, "images": []}
    bad_rule = {"tag_regexp": ".*", "expire_period": "3600s"}
    seeds = [
        (
            {"path": "app", "lifecycle_policies": [{"rules": [bad_rule]}]},
            "lifecycle_policies[0].rules[0].expire_period",
        ),
        ({"path": "app", "lifecycle_policies": [{"status": "ON"}]}, "lifecycle_policies[0].status"),
        ({"path": "app", "lifecycle_policies": [{"status": "ACTIVE"}, {"status": "ACTIVE"}]}, "[1].status"),
        ({"path": "app", "lifecycle_policies": [{"colour": "red"}]}, "lifecycle_policies[0].colour"),
    ]
    for repository, named in seeds:
        with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
            ycr.load_seed({"registries": [dict(registry, repositories=[repository])]})
        assert ycr.registries == {} and ycr.lifecycle_policies == {}


@pytest.mark.behaviour(
    "RepositoryService/Delete",
    "choice",
    "A repository that goes takes its lifecycle policies and their results.",
    "a policy belongs to its repository",
)
def test_a_repository_going_takes_its_policies(ycr, policies, lifecycle_emulator):
    repository_id, _ = _repository(ycr, [(["v1"], 10)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1))
    result_id = lifecycle_emulator.store.dry_run_lifecycle_policy(policy_id).id
    registry_id = next(iter(ycr.registries))
    lifecycle_emulator.store.delete_registry(registry_id, force=True)
    assert ycr.lifecycle_policies == {}
    error = rpc_error(
        policies.GetDryRunResult, pb.GetDryRunLifecyclePolicyResultRequest(dry_run_lifecycle_policy_result_id=result_id)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_the_control_plane_adds_runs_and_schedules_policies():
    """The same operations from another process: RemoteEmulator through the control plane."""
    with EmulatorProcess(["--start-time", START.isoformat()]) as remote:
        registry = remote.add_registry(FOLDER)
        old = remote.add_image(registry.id, "app", tags=["v1"], created_at=_days_ago(10))
        repository = remote.add_repository(registry.id, "app")
        policy = remote.add_lifecycle_policy(
            repository.id, name="cleanup", status="ACTIVE", rules=[{"tag_regexp": ".*", "expire_period": "172800s"}]
        )
        assert remote.lifecycle_policies == {policy.id: policy}
        assert policy.rules[0].expire_period_ns == 2 * DAY * 10**9
        [run] = remote.run_lifecycle_policies()
        assert run.deleted == (old.id,) and remote.images == {}
        remote.add_image(registry.id, "app", tags=["v2"], created_at=_days_ago(1.5))
        remote.schedule_lifecycle_policies(DAY)
        remote.advance_time(DAY)
        assert remote.images == {}
        with pytest.raises(ValueError, match="every"):
            remote.schedule_lifecycle_policies(-1)


# ---- the official SDK, unchanged ------------------------------------------------------------------


def test_the_python_sdk_through_a_whole_lifecycle(ycr, lifecycle_emulator):
    """Create a policy, dry-run it, read what it would delete, activate it, run it, see the images gone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = yandexcloud.SDK(
            endpoint=lifecycle_emulator.endpoint, iam_token="t1.any", root_certificates=lifecycle_emulator.ca_pem
        )
    repository_id, ids = _repository(ycr, [(["nightly-1"], 20), (["nightly-2"], 19), (["release-1"], 40)])
    stub = sdk.client(LifecyclePolicyServiceStub)
    created = sdk.wait_operation_and_get_result(
        stub.Create(
            pb.CreateLifecyclePolicyRequest(
                repository_id=repository_id, name="nightlies", status=DISABLED,
                rules=[_rule(tag_regexp="nightly-.*", expire_days=14)],
            )
        ),
        response_type=policy_pb.LifecyclePolicy,
        meta_type=pb.CreateLifecyclePolicyMetadata,
    )  # fmt: skip
    policy_id = created.response.id
    assert created.meta.lifecycle_policy_id == policy_id
    dry = sdk.wait_operation_and_get_result(
        stub.DryRun(pb.DryRunLifecyclePolicyRequest(lifecycle_policy_id=policy_id)),
        response_type=pb.DryRunLifecyclePolicyResult,
        meta_type=pb.DryRunLifecyclePolicyMetadata,
    )
    affected = stub.ListDryRunResultAffectedImages(
        pb.ListDryRunLifecyclePolicyResultAffectedImagesRequest(
            dry_run_lifecycle_policy_result_id=dry.response.dry_run_lifecycle_policy_result_id
        )
    ).affected_images
    assert sorted(image.id for image in affected) == sorted([ids["nightly-1"], ids["nightly-2"]])
    sdk.wait_operation_and_get_result(
        stub.Update(
            pb.UpdateLifecyclePolicyRequest(
                lifecycle_policy_id=policy_id, update_mask=field_mask_pb2.FieldMask(paths=["status"]), status=ACTIVE
            )
        ),
        response_type=policy_pb.LifecyclePolicy,
        meta_type=pb.UpdateLifecyclePolicyMetadata,
    )
    ycr.run_lifecycle_policies()
    left = sdk.client(ImageServiceStub).List(image_pb.ListImagesRequest(repository_name=affected[0].name)).images
    assert [image.id for image in left] == [ids["release-1"]]
    assert_exercised("python", "a lifecycle policy", ycr.calls)


# ---- the documented recipes, run as written ---------------------------------------------------------

DOC_LIFECYCLE = """\
from datetime import datetime, timedelta, timezone
from emulator import Emulator
from emulator.state.clock import Clock

emulator = Emulator(clock=Clock(datetime(2026, 12, 1, tzinfo=timezone.utc)))
registry = emulator.add_registry("b1g0000000000000demo")
for days_old, tag in ((40, "nightly-1"), (20, "nightly-2"), (1, "nightly-3"), (90, "v1.0")):
    emulator.add_image(registry.id, "web", tags=[tag], created_at=emulator.now - timedelta(days=days_old))
repository = emulator.add_repository(registry.id, "web")
emulator.add_lifecycle_policy(repository.id, name="nightlies", status="ACTIVE", rules=[
    {"tag_regexp": "nightly-.*", "expire_period": f"{14 * 86400}s", "retained_top": 1}])
[run] = emulator.run_lifecycle_policies()        # what production does "regularly"
print(sorted(image.tags[0] for image in emulator.images.values()))  # ['nightly-3', 'v1.0']
"""

DOC_LIFECYCLE_CURL = """\
curl -s -XPOST localhost:8081/lifecycle-policies -d '{"repository_id": "crpdemorepository001", "name": "keep-one", \
"status": "ACTIVE", "rules": [{"tag_regexp": ".*", "expire_period": "2592000s", "retained_top": 1}]}'
curl -s -XPOST localhost:8081/lifecycle-policies/run                   # {"runs": [{"lifecycle_policy_id": ..., \
"deleted": [...], ...}]}
curl -s -XPOST localhost:8081/lifecycle-policies/schedule -d '{"every": 86400}'
"""


def test_the_lifecycle_recipe_runs_as_written(capsys):
    assert_on_page("container-registry.md", DOC_LIFECYCLE=DOC_LIFECYCLE)
    exec(compile(DOC_LIFECYCLE, "docs/container-registry.md", "exec"), {})
    assert capsys.readouterr().out == "['nightly-3', 'v1.0']\n"


def test_the_control_plane_lifecycle_recipe_runs_as_written():
    curl = DOC_LIFECYCLE_CURL.replace(" \\\n", " ")  # the lines as the page writes them
    assert_on_page("container-registry.md", DOC_LIFECYCLE_CURL=curl)
    with EmulatorProcess(empty=False) as process:  # the demo data: crpdemorepository001 is its ubuntu
        port = process.admin_url.rpartition(":")[2]
        done = subprocess.run(
            ["bash", "-e", "-c", curl.replace("8081", port)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        answers, at = [], 0
        while at < len(done.stdout):
            answer, at = json.JSONDecoder().raw_decode(done.stdout, at)
            answers.append(answer)
        policy, runs, schedule = answers
        assert policy["status"] == "ACTIVE" and schedule == {"every": 86400}
        [run] = runs["runs"]
        assert run["lifecycle_policy_id"] == policy["id"] and run["deleted"] == ["crpa2mf008mpjig73rp6"]  # 22.04
        images = process.images
        assert "crpa2mf008mpjig73rp6" not in images and "crpa2mf008mpjig73rp7" in images  # 24.04, the newest, stays


@pytest.mark.behaviour(
    "LifecyclePolicyService/List",
    "documented",
    "List filters on name: a renamed policy is found by its new name only.",
    "yandex/cloud/containerregistry/v1/lifecycle_policy_service.proto (ListLifecyclePoliciesRequest.filter: filtering only on LifecyclePolicy.name, with =)",
)
def test_a_renamed_or_activated_policy_is_found_by_its_new_name_and_status(ycr, policies):
    """A policy's name and status are List groups: an Update moves it between them."""
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    _, first = _create(policies, repository_id, name="before")
    _, second = _create(policies, repository_id, name="other")
    mask = field_mask_pb2.FieldMask
    policies.Update(
        pb.UpdateLifecyclePolicyRequest(
            lifecycle_policy_id=first, update_mask=mask(paths=["name", "status"]), name="after", status=ACTIVE
        )
    )

    def named(name: str) -> list[str]:
        request = pb.ListLifecyclePoliciesRequest(repository_id=repository_id, filter=f'name = "{name}"')
        return [policy.id for policy in policies.List(request).lifecycle_policies]

    assert (named("after"), named("before")) == ([first], [])
    activate = pb.UpdateLifecyclePolicyRequest(
        lifecycle_policy_id=second, update_mask=mask(paths=["status"]), status=ACTIVE
    )
    assert rpc_error(policies.Update, activate).code() == grpc.StatusCode.FAILED_PRECONDITION  # first is ACTIVE now


# ---- found by review ---------------------------------------------------------------------------------


def test_retained_top_beyond_the_filtered_images_keeps_them_all(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 30), (["v2"], 20), (["v3"], 10)])
    _, policy_id = _create(policies, repository_id, _rule(tag_regexp=".*", expire_days=1, retained_top=5))
    assert _dry_run(policies, policy_id) == []


def test_an_expire_period_a_duration_cannot_hold_is_refused_and_creates_nothing(ycr, policies):
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    huge = _rule(tag_regexp=".*", expire_period=duration_pb2.Duration(seconds=400_000_000_000 // DAY * DAY))
    error = rpc_error(_create, policies, repository_id, huge)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violation_fields(error) == {"rules[0].expire_period"}
    assert ycr.lifecycle_policies == {}


def test_a_refused_add_lifecycle_policy_leaves_nothing(ycr):
    repository_id, _ = _repository(ycr, [(["v1"], 1)])
    good = {"id": "crpreviewdryrun00001", "run_at": "2026-01-01T00:00:00Z"}
    with pytest.raises(ValueError, match=r"dry_run_results\[1\]"):
        ycr.add_lifecycle_policy(repository_id, status="ACTIVE", dry_run_results=[good, {"id": "x"}])
    assert ycr.lifecycle_policies == {}
    assert ycr.add_lifecycle_policy(repository_id, status="ACTIVE").status == "ACTIVE"  # a retry is not refused


@pytest.mark.parametrize("every", [float("inf"), 1e300, float("nan"), 0, True, "86400"])
def test_a_schedule_that_cannot_be_kept_is_refused(ycr, every):
    with pytest.raises(ValueError, match="^every: "):
        ycr.schedule_lifecycle_policies(every)


@pytest.mark.behaviour(
    "LifecyclePolicyService/GetDryRunResult",
    "choice",
    "At most 1,000 dry-run results are kept; the oldest is forgotten first.",
    "the emulator's bound",
)
def test_the_oldest_dry_run_result_is_forgotten_first_also_after_a_reload(ycr, policies):
    """At most 1,000 results are kept, the oldest (by run_at) forgotten first, however they were loaded."""
    repository_id, _ = _repository(ycr, [(["v1"], 10)])

    def results(first: int) -> list[dict]:  # every other hour: the two policies' results interleave
        return [
            {"id": f"crpdryrun{first + 2 * n:011d}", "run_at": _days_ago(100 - (first + 2 * n) / 24)}
            for n in range(500)
        ]

    loaded_first = ycr.add_lifecycle_policy(repository_id, name="odd-hours", dry_run_results=results(1))
    ycr.add_lifecycle_policy(repository_id, name="even-hours", dry_run_results=results(0))  # holds the oldest
    _dry_run(policies, loaded_first.id)  # the 1,001st
    ids = {
        result["id"]
        for policy in ycr.state()["registries"][0]["repositories"][0]["lifecycle_policies"]
        for result in policy.get("dry_run_results", [])
    }
    assert len(ids) == 1_000 and "crpdryrun00000000000" not in ids and "crpdryrun00000000001" in ids
