"""One module per gRPC service: its handlers, and its declaration in emulator.api.catalogue."""

from emulator.rpc.services import endpoints, iam, images, operations, registries, repositories

# Each module exports SERVICE (its full name), PUBLIC (served without a token in every auth
# mode) and rpcs(context); adding a service is adding its module here.
SERVICE_MODULES = (images, registries, repositories, operations, endpoints, iam)
