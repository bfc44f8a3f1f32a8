"""The state file (``--state-file``): the seed format, read at start and written atomically at a clean
shutdown, so the file on disk is always a whole state, old or new, even if the process is killed
during the write."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from emulator.state.codecs import SeedError
from emulator.state.collector import collector_paused
from emulator.state.seed import export_state
from emulator.state.store import Store


def read_seed_file(path: str | Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None
    try:
        with collector_paused():
            return json.loads(text)
    except json.JSONDecodeError as error:
        raise SeedError(f"{path}: not valid JSON: {error}") from None
    except RecursionError:
        raise SeedError(f"{path}: not valid JSON: nested too deeply") from None


# ---- the state file ----------------------------------------------------------------------
#
# Written atomically: the JSON goes to ".<name>.<pid>.tmp" beside the file, is fsynced, and is
# renamed over it, so the file on disk is always a whole state, old or new, even if the process
# is killed during the write. A temporary file whose writer is no longer running is stale.

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.tmp")


def temporary_path(path: str | Path, pid: int | None = None) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes nothing yet: a file with its pid is an earlier one's
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process; (an absurd pid: leave the file alone)
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by writers that are no longer running
    (killed during a write). Another running process's file is left alone: it may be
    writing. Returns the files removed."""
    path = Path(path)
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.fullmatch(name)
        if match and match["name"] == path.name and not _running(int(match["pid"])):
            try:
                (path.parent / name).unlink()
            except FileNotFoundError:
                continue
            removed.append(path.parent / name)
    return removed


def check_writable(path: str | Path) -> None:
    """OSError unless the state file can be written: its directory exists and takes a new
    file (made and removed again, as the final write will), and the path is not a directory."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    probe = temporary_path(path)
    descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.close(descriptor)
    probe.unlink()


def state_text(state: dict) -> str:
    """The state file's content from ``export_state(store, complete=False)``: compact JSON (the
    C encoder; ``indent`` would make json use its pure-Python one, ten times slower)."""
    return json.dumps(state, separators=(",", ":"))


NEW_FILE_MODE = 0o600  # a state file or snapshot holds every folder's state: its owner's only


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file, fsync, rename, fsync the directory.
    The file keeps the mode of the one it replaces; a new one is 0600 whatever the umask."""
    path = Path(path)
    temporary = temporary_path(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = NEW_FILE_MODE
    try:
        temporary.unlink(missing_ok=True)  # a stale one; and never write through a link planted there
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, NEW_FILE_MODE)
        with open(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(descriptor, mode)  # exactly, not as the umask would cut it
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_state_file(path: str | Path, store: Store) -> None:
    write_text_atomically(path, state_text(export_state(store, complete=False)))


def fallback_path(path: str | Path) -> Path:
    """Where the state goes when ``path`` cannot be written at shutdown: the temporary
    directory ($TMPDIR), under the state file's name and this process's id."""
    path = Path(path)
    return Path(tempfile.gettempdir()) / f"{path.stem}.unsaved-{os.getpid()}{path.suffix or '.json'}"
