"""One module per gRPC service: its declaration (``SERVICE``, an emulator.api.catalogue.Service) and
``rpcs(context)``, a handler for each declared method. Adding a service is adding its module here."""

from emulator.api.catalogue import Catalogue
from emulator.rpc.services import (
    cloudregistry,
    endpoints,
    iam,
    images,
    lifecycle_policies,
    operations,
    registries,
    repositories,
    scan_policies,
    scanner,
)

SERVICE_MODULES = (
    images, registries, repositories, lifecycle_policies, scanner, scan_policies, operations, endpoints, iam,
    *cloudregistry.SERVICE_MODULES,
)  # fmt: skip
CATALOGUE = Catalogue(module.SERVICE for module in SERVICE_MODULES)
