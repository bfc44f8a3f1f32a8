"""The standalone emulator process: ``ycr-emulator`` and ``python -m emulator``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from importlib import resources
from pathlib import Path

from emulator.seed import SeedError, export_state, read_seed_file, write_seed_file
from emulator.server import Emulator

DEMO_SEED = "demo_seed.json"
READY = "ycr-emulator listening on"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ycr-emulator",
        description="In-memory emulator of Yandex Cloud Container Registry's ImageService (gRPC).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=50051, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--seed", metavar="FILE", help="JSON seed file; without it, built-in demo data is served")
    parser.add_argument(
        "--admin-port",
        type=int,
        metavar="PORT",
        help="serve the HTTP JSON control plane on this port (0 picks a free one); off when not given",
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="load the state from PATH at start if it exists (instead of --seed or the demo data) "
        "and write it there, atomically, on a clean shutdown",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info logs every call (default: %(default)s)",
    )
    return parser.parse_args(argv)


def initial_state(args: argparse.Namespace) -> tuple[str, Path]:
    """(what it is, the seed-format file) to start from."""
    if args.state_file and Path(args.state_file).exists():
        return f"state file {args.state_file}", Path(args.state_file)
    if args.seed:
        return f"seed {args.seed}", Path(args.seed)
    return "demo data", Path(str(resources.files("emulator").joinpath(DEMO_SEED)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    emulator = Emulator(host=args.host, port=args.port, admin_port=args.admin_port)
    source, path = initial_state(args)
    try:
        emulator.load_seed(path)
    except SeedError as error:
        untouched = " (the file is left untouched)" if source.startswith("state file") else ""
        print(f"ycr-emulator: bad {source}: {error}{untouched}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as error:
        print(f"ycr-emulator: {error}", file=sys.stderr)
        return 1

    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    admin = f"; admin {emulator.admin_url}" if emulator.admin_url else ""
    print(
        f"{READY} {emulator.endpoint} "
        f"({len(emulator.store.registries)} registries, {len(emulator.store.images)} images{admin})",
        flush=True,
    )
    while not stopping.wait(0.5):
        pass
    emulator.stop(grace=1.0)
    if args.state_file:
        write_seed_file(args.state_file, export_state(emulator.store))
    print("ycr-emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
