"""TLS for the gRPC port: a certificate for localhost, 127.0.0.1 and ::1 signed by a
CA made at start (trustme), or supplied files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsMaterial:
    ca_pem: bytes | None  # what clients must trust; None when the certificate was supplied
    certificate_chain_pem: bytes
    private_key_pem: bytes

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials([(self.private_key_pem, self.certificate_chain_pem)])


def generated(hosts: tuple[str, ...] = HOSTS) -> TlsMaterial:
    import trustme

    # ECDSA keys: a certificate in well under a millisecond, so every start can have one.
    ca = trustme.CA(organization_name="ycr-emulator", key_type=trustme.KeyType.ECDSA)
    certificate = ca.issue_cert(*hosts, key_type=trustme.KeyType.ECDSA)
    return TlsMaterial(
        ca_pem=ca.cert_pem.bytes(),
        certificate_chain_pem=b"".join(blob.bytes() for blob in certificate.cert_chain_pems),
        private_key_pem=certificate.private_key_pem.bytes(),
    )


def from_files(cert: str | Path, key: str | Path, ca: str | Path | None = None) -> TlsMaterial:
    """Supplied PEM files; ``ca`` defaults to the certificate itself (fine for self-signed)."""
    chain = Path(cert).read_bytes()
    return TlsMaterial(
        ca_pem=Path(ca).read_bytes() if ca else chain,
        certificate_chain_pem=chain,
        private_key_pem=Path(key).read_bytes(),
    )
