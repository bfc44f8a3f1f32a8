"""The emulator as a process: the ready line ``ycr-emulator`` prints when it serves (the protocol
between it and whoever starts it), and ``EmulatorProcess``, which starts one and drives it through
its control plane."""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass

from emulator.control.remote import RemoteEmulator

READY = "ycr-emulator listening on"
# The ready line describe() prints, for whoever starts the process and waits for it.
_READY_LINE = re.compile(
    rf"{READY} (?P<endpoint>\S+) \((?P<registries>\d+) registries, (?P<images>\d+) images"
    r"(?P<notes>(?:; [^;()]+)*)\)"
)


@dataclass(frozen=True)
class ReadyLine:
    """What the ready line says: where gRPC is served, what was loaded, the control plane's URL."""

    endpoint: str
    registries: int
    images: int
    notes: tuple[str, ...]  # "tls", "tls HOST:PORT", "auth MODE", "admin URL"

    @property
    def admin_url(self) -> str | None:
        return next((note.split(" ", 1)[1] for note in self.notes if note.startswith("admin ")), None)


def parse_ready_line(line: str) -> ReadyLine | None:
    """The ready line ``ycr-emulator`` prints first on stdout, parsed; None for any other line."""
    match = _READY_LINE.fullmatch(line.strip())
    if match is None:
        return None
    notes = tuple(note for note in match["notes"].split("; ") if note)
    return ReadyLine(match["endpoint"], int(match["registries"]), int(match["images"]), notes)


class EmulatorProcess(RemoteEmulator):
    """``ycr-emulator`` in a subprocess with the control plane on; ready when start() returns.

    Starts empty (no demo data) unless ``args`` say otherwise. ``admin_token`` is passed as
    ``--admin-token`` (visible to local users in the process list) and used by this object.
    The process never outlives this one: it holds a pipe to it as its stdin and stops when the
    pipe closes (``--stop-on-stdin-eof``), which the kernel does however this process ends,
    SIGKILL included.
    """

    def __init__(
        self, args: list[str] = (), *, start_timeout: float = 30.0, empty: bool = True, admin_token: str | None = None
    ):
        self.args = list(args)
        self.start_timeout = start_timeout
        self.empty = empty
        self.admin_token = admin_token
        self.process: subprocess.Popen | None = None

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "emulator", "--port", "0", "--admin-port", "0", "--log-level", "warning"]
        command.append("--stop-on-stdin-eof")
        if self.admin_token is not None:
            command.append(f"--admin-token={self.admin_token}")  # a token may start with "-"
        # stderr goes to a file: a pipe nobody reads would fill up and stall the emulator.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command + self.args,
            stdin=subprocess.PIPE,  # never written: its closing is the signal to stop
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.start_timeout).strip()
        except queue.Empty:
            line = ""
        ready = parse_ready_line(line)
        if ready is None or not ready.admin_url:
            if self.process.poll() is None:
                self.process.kill()
            self.stop()
            raise RuntimeError(f"ycr-emulator did not start: {line or self.log().strip() or 'no output'}")
        super().__init__(ready.endpoint, ready.admin_url, admin_token=self.admin_token)
        if self.empty:
            self.reset()
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop in ``timeout`` seconds; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if not isinstance(self._stderr, io.BytesIO):  # the file is closed; what it held stays readable
            self._stderr.seek(0)
            self._stderr, file = io.BytesIO(self._stderr.read()), self._stderr
            file.close()
        return self.process.returncode

    def log(self) -> str:
        """What the process wrote to stderr (its log) so far; after stop(), all of it."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
