"""Resource ids and digests in the formats the public API uses.

Yandex Cloud ids are 20 characters: a 3-character service prefix (``crp`` for
Container Registry, ``cn1`` for Cloud Registry) and 17 characters of ``[0-9a-v]``.
"""

from __future__ import annotations

import random
import re

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_PAIRS = [a + b for a in ID_ALPHABET for b in ID_ALPHABET]  # 10 random bits -> 2 characters
REGISTRY_PREFIX = "crp"
CLOUD_REGISTRY_PREFIX = "cn1"  # Cloud Registry's registries and artifacts (docs' examples: cn1fsnc2dak...)
DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
# A resource id the emulator accepts from seeds and the Python API: the API's
# 50-character limit, lowercase letters and digits (so it stays a safe token payload).
ACCEPTED_ID_PATTERN = re.compile(r"[a-z0-9]{1,50}")


def id_of_bits(bits: int, prefix: str = REGISTRY_PREFIX) -> str:
    """An id from 85 bits, the most significant first: what base32hex (lowercase) makes of them,
    as a third of the work of ``base64.b32hexencode``."""
    pairs = _PAIRS
    return "".join(
        (prefix, ID_ALPHABET[bits >> 80], pairs[bits >> 70 & 1023], pairs[bits >> 60 & 1023],
         pairs[bits >> 50 & 1023], pairs[bits >> 40 & 1023], pairs[bits >> 30 & 1023],
         pairs[bits >> 20 & 1023], pairs[bits >> 10 & 1023], pairs[bits & 1023])
    )  # fmt: skip


class IdGenerator:
    """Makes realistic ids and digests; seedable so test data is reproducible."""

    def __init__(self, seed: int | None = None):
        self._random = random.Random(seed)

    def new_id(self, prefix: str = REGISTRY_PREFIX) -> str:
        bits = self._random.getrandbits(85)  # 17 characters of 5 bits
        pairs = _PAIRS
        return "".join(
            (prefix, pairs[bits & 1023], pairs[bits >> 10 & 1023], pairs[bits >> 20 & 1023],
             pairs[bits >> 30 & 1023], pairs[bits >> 40 & 1023], pairs[bits >> 50 & 1023],
             pairs[bits >> 60 & 1023], pairs[bits >> 70 & 1023], ID_ALPHABET[bits >> 80])
        )  # fmt: skip

    def new_digest(self) -> str:
        return "sha256:" + self._random.randbytes(32).hex()

    def new_size(self, low: int, high: int) -> int:
        return self._random.randint(low, high)
