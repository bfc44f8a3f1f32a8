"""Freeing a discarded state in the background: dropping 100,000 images takes longer than a
reset may, so ``discard`` hands their containers to one daemon thread of the process, which
empties them a thousand entries at a time, letting other threads run between."""

from __future__ import annotations

import queue
import threading
import time


class Reaper:
    def __init__(self) -> None:
        self._graveyard: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def discard(self, containers: tuple[dict, ...]) -> None:
        """Free these dicts later (the thread starts on first use)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._reap_forever, name="ycr-reaper", daemon=True)
                self._thread.start()
        self._graveyard.put(containers)

    def _reap_forever(self) -> None:
        while True:
            containers = self._graveyard.get()
            for container in containers:
                while container:
                    for _ in range(min(1000, len(container))):
                        container.popitem()
                    time.sleep(0)
            containers = container = None  # drop the last references before waiting again


REAPER = Reaper()  # one per process: states of every emulator in it go to the same thread
