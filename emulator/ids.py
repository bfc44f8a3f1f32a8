"""Resource ids and digests in the formats the public API uses.

Yandex Cloud ids are 20 characters: a 3-character service prefix (``crp`` for
Container Registry) and 17 characters of ``[0-9a-v]``.
"""

from __future__ import annotations

import random
import re

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
REGISTRY_PREFIX = "crp"
ID_PATTERN = re.compile(r"[a-z][a-z0-9]{2}[0-9a-v]{17}")
DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
# A resource id the emulator accepts from seeds and the Python API: the API's
# 50-character limit, lowercase letters and digits (so it stays a safe token payload).
ACCEPTED_ID_PATTERN = re.compile(r"[a-z0-9]{1,50}")


class IdGenerator:
    """Makes realistic ids and digests; seedable so test data is reproducible."""

    def __init__(self, seed: int | None = None):
        self._random = random.Random(seed)

    def new_id(self, prefix: str = REGISTRY_PREFIX) -> str:
        return prefix + "".join(self._random.choices(ID_ALPHABET, k=17))

    def new_digest(self) -> str:
        return f"sha256:{self._random.getrandbits(256):064x}"

    def new_size(self, low: int, high: int) -> int:
        return self._random.randint(low, high)
