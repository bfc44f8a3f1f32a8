"""OperationService.Get as both the emulator and the real service must show it. The suite makes
no operation (it never calls a mutating method), so only the answers for ids that name none.

Documented (operation_service.proto): operation_id is required; Get "Returns the specified
Operation resource", so an id that names none is NOT_FOUND. GetOperationRequest gives no length
or pattern: that a 1,000-character id is NOT_FOUND rather than INVALID_ARGUMENT is the emulator's
choice.
"""

from __future__ import annotations

import grpc
import pytest
from yandex.cloud.operation import operation_service_pb2 as pb

from conftest import rpc_error
from tests.contract.relations import TIMEOUT

pytestmark = pytest.mark.contract


@pytest.mark.parametrize(
    ("operation_id", "code"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("crp00000000000000000", grpc.StatusCode.NOT_FOUND),
        pytest.param("x" * 1000, grpc.StatusCode.NOT_FOUND, marks=pytest.mark.emulator_choice),
    ],
    ids=["empty", "unknown", "long"],
)
def test_get_of_a_bad_or_unknown_id(target, operation_id, code):
    error = rpc_error(target.operations.Get, pb.GetOperationRequest(operation_id=operation_id), timeout=TIMEOUT)
    assert error.code() == code, (error.code(), error.details())
