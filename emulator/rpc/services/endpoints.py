"""yandex.cloud.endpoint.ApiEndpointService: endpoint discovery for the SDK.

Every service id the SDK knows resolves to the emulator's own address, so the SDK
needs only ``endpoint=`` to send everything here.
"""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Read, Service
from emulator.api.errors import NotFound, shown
from emulator.api.wire import message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext

SERVICE = Service(
    "yandex.cloud.endpoint.ApiEndpointService",
    endpoint="endpoint",
    methods_declared={"Get": Read(), "List": Read()},
    public=True,  # the SDK discovers endpoints before it has a token
)
# Ids discovery lists though the emulator serves none of their methods (it always has: a client that
# resolves every id it knows finds an address), answered with the emulator's address like the served ones.
UNSERVED_ENDPOINTS = ("resource-manager",)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    address = context.address
    service_ids = tuple(sorted({*context.catalogue.endpoints, *UNSERVED_ENDPOINTS}))
    endpoint_class = message_class("yandex.cloud.endpoint.ApiEndpoint")

    def get(request: Message, call: Call) -> Message:
        if request.api_endpoint_id not in service_ids:
            raise NotFound(f"Api endpoint {shown(request.api_endpoint_id)!r} not found")
        return endpoint_class(id=request.api_endpoint_id, address=address())

    def list_endpoints(request: Message, call: Call) -> Message:
        here = address()
        response = message_class("yandex.cloud.endpoint.ListApiEndpointsResponse")()
        response.endpoints.extend(endpoint_class(id=service_id, address=here) for service_id in service_ids)
        return response

    return {"Get": get, "List": list_endpoints}
