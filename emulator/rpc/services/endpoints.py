"""yandex.cloud.endpoint.ApiEndpointService: endpoint discovery for the SDK.

Every service id the SDK knows resolves to the emulator's own address, so the SDK
needs only ``endpoint=`` to send everything here.
"""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.errors import NotFound, shown
from emulator.api.wire import message_class
from emulator.rpc.pipeline import Call, Rpc, ServiceContext

SERVICE = "yandex.cloud.endpoint.ApiEndpointService"
PUBLIC = True  # the SDK discovers endpoints before it has a token
SERVICE_IDS = (
    "container-registry",
    "endpoint",
    "iam",
    "operation",
    "resource-manager",
)


def rpcs(context: ServiceContext) -> list[Rpc]:
    address = context.address
    endpoint_class = message_class("yandex.cloud.endpoint.ApiEndpoint")

    def get(request: Message, call: Call) -> Message:
        if request.api_endpoint_id not in SERVICE_IDS:
            raise NotFound(f"Api endpoint {shown(request.api_endpoint_id)!r} not found")
        return endpoint_class(id=request.api_endpoint_id, address=address())

    def list_endpoints(request: Message, call: Call) -> Message:
        here = address()
        response = message_class("yandex.cloud.endpoint.ListApiEndpointsResponse")()
        response.endpoints.extend(endpoint_class(id=service_id, address=here) for service_id in SERVICE_IDS)
        return response

    return [
        Rpc("Get", "yandex.cloud.endpoint.GetApiEndpointRequest", get),
        Rpc("List", "yandex.cloud.endpoint.ListApiEndpointsRequest", list_endpoints),
    ]
