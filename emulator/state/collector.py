"""Pausing Python's cyclic garbage collector while millions of small objects are made or read.

The emulator's records, index keys and JSON values form no cycles, but each new object counts
towards the collector's next pass, and with millions alive a pass walks all of them: loading a
large seed or building an index would spend half its time there.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses keep it off until the outermost ends)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
