"""Behaviour both the emulator and the real service must show, seen through the official SDK.

Read-only: these tests list and get, never delete, so they may run against production.
They assert relations that hold for any data (paging agrees with one big page, filters
agree with a Python predicate over the listing, orders are sorted), not fixed answers.
"""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.containerregistry.v1 import image_service_pb2 as pb
from yandex.cloud.containerregistry.v1.image_service_pb2_grpc import ImageServiceStub

from conftest import list_pages, rpc_error

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def images(target):
    return target.sdk.client(ImageServiceStub)


@pytest.fixture(scope="module")
def everything(images, target):
    listed = images.List(pb.ListImagesRequest(registry_id=target.registry_id, page_size=1000))
    assert not listed.next_page_token, "the contract registry must fit in one page of 1000"
    assert len(listed.images) >= 3 and len({i.name for i in listed.images}) >= 2
    return list(listed.images)


@pytest.mark.parametrize("page_size", [1, 2, 5])
def test_paging_returns_what_one_big_page_does(images, target, everything, page_size):
    # A real service may end with an empty page after a full one: one page more than the images fill.
    bound = len(everything) // page_size + 2
    walk = list_pages(images.List, pb.ListImagesRequest, page_size, registry_id=target.registry_id, max_pages=bound)
    assert [i.id for page in walk for i in page] == [i.id for i in everything]


@pytest.mark.parametrize("order_by", ["id", "id desc", "name", "name desc", "created_at", "created_at desc"])
def test_orders_are_sorted(images, target, everything, order_by):
    field, _, direction = order_by.partition(" ")
    listed = images.List(pb.ListImagesRequest(registry_id=target.registry_id, page_size=1000, order_by=order_by))
    keys = [(getattr(i, field).ToNanoseconds() if field == "created_at" else getattr(i, field)) for i in listed.images]
    assert keys == sorted(keys, reverse=direction == "desc")
    assert {i.id for i in listed.images} == {i.id for i in everything}


def test_filters_agree_with_the_listing(images, target, everything):
    names = sorted({i.name for i in everything})
    cases = {
        f'name = "{names[0]}"': lambda name: name == names[0],
        f'name != "{names[0]}"': lambda name: name != names[0],
        f'name IN ("{names[0]}", "{names[-1]}")': lambda name: name in (names[0], names[-1]),
        f'name NOT IN ("{names[0]}", "{names[-1]}")': lambda name: name not in (names[0], names[-1]),
    }
    for expression, keep in cases.items():
        listed = images.List(pb.ListImagesRequest(registry_id=target.registry_id, page_size=1000, filter=expression))
        assert sorted(i.id for i in listed.images) == sorted(i.id for i in everything if keep(i.name)), expression


def test_the_repository_scope_lists_one_repository(images, everything):
    name = everything[0].name
    listed = images.List(pb.ListImagesRequest(repository_name=name, page_size=1000))
    assert sorted(i.id for i in listed.images) == sorted(i.id for i in everything if i.name == name)


def test_get_returns_what_list_does(images, everything):
    for image in everything[:3]:
        assert images.Get(pb.GetImageRequest(image_id=image.id)) == image


@pytest.mark.parametrize(
    "request_",
    [
        pb.ListImagesRequest(),
        pb.ListImagesRequest(folder_id="b" * 51),
        pb.ListImagesRequest(registry_id="c" * 51),
        pb.ListImagesRequest(repository_name="Not/A/Name"),
        pb.ListImagesRequest(folder_id="b1gcontract", page_size=1001),
        pb.ListImagesRequest(folder_id="b1gcontract", page_size=-1),
        pb.ListImagesRequest(folder_id="b1gcontract", page_token="x" * 101),
        pb.ListImagesRequest(folder_id="b1gcontract", page_token="not-a-token"),
        pb.ListImagesRequest(folder_id="b1gcontract", filter='tag = "x"'),
        pb.ListImagesRequest(folder_id="b1gcontract", order_by="size"),
    ],
    ids=[
        "no-scope",
        "long-folder",
        "long-registry",
        "bad-repository",
        "page-1001",
        "page-negative",
        "long-token",
        "forged-token",
        "bad-filter",
        "bad-order",
    ],
)
def test_bad_list_requests_are_invalid_argument(images, request_):
    assert rpc_error(images.List, request_).code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("image_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("c" * 51, grpc.StatusCode.INVALID_ARGUMENT),
        ("crp00000000000000000", grpc.StatusCode.NOT_FOUND),
    ],
    ids=["empty", "too-long", "unknown"],
)
def test_get_of_a_bad_or_unknown_id(images, image_id, code):
    assert rpc_error(images.Get, pb.GetImageRequest(image_id=image_id)).code() == code


def test_a_page_token_is_bound_to_its_query(images, target):
    first = images.List(pb.ListImagesRequest(registry_id=target.registry_id, page_size=1))
    assert first.next_page_token and len(first.next_page_token) <= 100
    other_order = pb.ListImagesRequest(
        registry_id=target.registry_id, page_size=1, order_by="name", page_token=first.next_page_token
    )
    assert rpc_error(images.List, other_order).code() == grpc.StatusCode.INVALID_ARGUMENT
