"""Imported first by the package: what must be set before ``import grpc``.

gRPC's C core reads GRPC_VERBOSITY once, when grpc is first imported (grpcio 1.85: setting it later
changes nothing), and otherwise logs a failed TLS handshake on stderr ("I1127 ... Handshake failed
..."). The contract tools print every error as one line of their own, so when one of them is what
runs (``ycr-emulator snapshot|diff``, ``python -m emulator snapshot|diff``) it is set to NONE; a
value the user gives wins, and a program that imports the package is left as it is.
"""

import os
import sys

# "-m": runpy sets argv[0] so while it locates the module, which imports the package first.
_LAUNCHED = sys.argv[0] == "-m" or os.path.basename(sys.argv[0]) == "ycr-emulator"
if _LAUNCHED and sys.argv[1:2] in (["snapshot"], ["diff"]):
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
