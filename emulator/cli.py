"""The standalone emulator process: ``ycr-emulator`` and ``python -m emulator``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from importlib import resources

from emulator.seed import SeedError, read_seed_file
from emulator.server import Emulator

DEMO_SEED = "demo_seed.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ycr-emulator",
        description="In-memory emulator of Yandex Cloud Container Registry's ImageService (gRPC).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=50051, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--seed", metavar="FILE", help="JSON seed file; without it, built-in demo data is served")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info logs every call (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    emulator = Emulator(host=args.host, port=args.port)
    try:
        if args.seed:
            data = read_seed_file(args.seed)
        else:
            data = read_seed_file(resources.files("emulator").joinpath(DEMO_SEED))
        emulator.load_seed(data)
    except SeedError as error:
        print(f"ycr-emulator: bad seed: {error}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as error:
        print(f"ycr-emulator: {error}", file=sys.stderr)
        return 1

    stopping = threading.Event()

    def stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    store = emulator.store
    print(
        f"ycr-emulator listening on {emulator.endpoint} "
        f"({len(store.registries)} registries, {len(store.images)} images)",
        flush=True,
    )
    while not stopping.wait(0.5):
        pass
    emulator.stop(grace=1.0)
    print("ycr-emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
