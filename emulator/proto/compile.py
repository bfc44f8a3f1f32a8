"""Regenerate ``descriptors.binpb`` from the .proto sources beside this file.

Run ``python -m emulator.proto.compile`` after editing a .proto file; it needs
grpcio-tools (a dev extra). The emulator itself never runs protoc: it loads the
committed descriptor set, so installing it needs no compiler.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
DESCRIPTOR_SET = PROTO_DIR / "descriptors.binpb"

# Files compiled into the set; their imports (well-known types, google.api,
# google.rpc) are included too. google/protobuf/empty.proto is listed because
# Delete's operation response is packed as Empty.
ROOTS = (
    "yandex/cloud/containerregistry/v1/image_service.proto",
    "yandex/cloud/containerregistry/v1/registry_service.proto",
    "yandex/cloud/containerregistry/v1/repository_service.proto",
    "yandex/cloud/containerregistry/v1/lifecycle_policy_service.proto",
    "yandex/cloud/containerregistry/v1/scanner_service.proto",
    "yandex/cloud/containerregistry/v1/scan_policy_service.proto",
    # Cloud Registry, Container Registry's successor (issue #22), and its MigrationService (issue #23)
    "yandex/cloud/cloudregistry/v1/registry_service.proto",
    "yandex/cloud/cloudregistry/v1/artifact_service.proto",
    "yandex/cloud/cloudregistry/v1/lifecycle_policy_service.proto",
    "yandex/cloud/cloudregistry/v1/scan_policy_service.proto",
    "yandex/cloud/cloudregistry/v1/scanner_service.proto",
    "yandex/cloud/cloudregistry/v1/migration_service.proto",
    # Not served: in the set so that the fidelity page lists it (issue #24)
    "yandex/cloud/cloudregistry/v1/domain/debian_service.proto",
    "yandex/cloud/operation/operation_service.proto",
    "yandex/cloud/endpoint/api_endpoint_service.proto",
    "yandex/cloud/iam/v1/iam_token_service.proto",
    "google/protobuf/empty.proto",
)


def own_proto_files() -> list[str]:
    """The project's own .proto sources, relative to PROTO_DIR."""
    return sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))


def compile_descriptor_set(output: Path) -> None:
    """Compile ROOTS (with imports) into a FileDescriptorSet at ``output``."""
    import google.api  # googleapis-common-protos ships google/api and google/rpc .proto files
    import grpc_tools
    from grpc_tools import protoc

    googleapis_root = Path(google.api.__path__[0]).parent.parent
    well_known_root = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"--proto_path={PROTO_DIR}",
        f"--proto_path={googleapis_root}",
        f"--proto_path={well_known_root}",
        "--include_imports",
        f"--descriptor_set_out={output}",
        *ROOTS,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed; see its messages above")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "descriptors.binpb"
        compile_descriptor_set(out)
        DESCRIPTOR_SET.write_bytes(out.read_bytes())
    print(f"wrote {DESCRIPTOR_SET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
