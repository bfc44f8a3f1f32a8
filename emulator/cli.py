"""The standalone emulator process: ``ycr-emulator`` and ``python -m emulator``."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
from importlib import resources
from pathlib import Path

from emulator.control.process import READY
from emulator.emulator import Emulator
from emulator.rpc.auth import MODES, default_mode, parse_token_specs
from emulator.rpc.services import CATALOGUE
from emulator.rpc.tls import from_files as tls_from_files
from emulator.state.clock import Clock
from emulator.state.codecs import SeedError, parse_timestamp
from emulator.state.operation_log import DEFAULT_MAX_FINISHED_OPERATIONS
from emulator.state.operation_modes import modes_json, parse_modes
from emulator.state.stages import ACTIVE, parse_stage
from emulator.state.state_file import (
    check_writable,
    fallback_path,
    remove_stale_temporaries,
    state_text,
    write_text_atomically,
)

DEMO_SEED = "demo_seed.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ycr-emulator",
        description="In-memory emulator of Yandex Cloud Container Registry's gRPC API.",
        epilog="Contract tools (read-only against any endpoint): 'ycr-emulator snapshot --help' writes a seed "
        "file from a registry; 'ycr-emulator diff --help' compares two endpoints request by request.",
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
        "--admin-token",
        metavar="TOKEN",
        help="the control plane then needs 'Authorization: Bearer TOKEN' on every request but GET /health; "
        "without it, anyone who reaches the control plane can read and change everything",
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="load the state from PATH at start if it exists (instead of --seed or the demo data) "
        "and write it there, atomically, on a clean shutdown",
    )
    parser.add_argument(
        "--max-operations",
        type=int,
        default=DEFAULT_MAX_FINISHED_OPERATIONS,
        metavar="N",
        help="keep the newest N finished operations (and their idempotency keys); pending ones are "
        "always kept (default: %(default)s)",
    )
    parser.add_argument(
        "--start-time",
        metavar="TIME",
        help="the emulator's clock stands at TIME (RFC 3339, e.g. 2026-12-01T00:00:00Z) until moved forward "
        "with POST /time; without it, the clock follows the system time",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a fault rule, e.g. \'{"method": "ImageService/List", "code": "UNAVAILABLE", "count": 1}\'; '
        "repeatable; reset() clears them",
    )
    parser.add_argument(
        "--operations",
        action="append",
        default=[],
        metavar="[METHOD=]MODE",
        help="how long operations take: immediate (default), polls:N (done on the N-th "
        "OperationService.Get) or delay:MS; for every method, or one (ImageService/Delete=polls:2); "
        "repeatable",
    )
    parser.add_argument(
        "--lifecycle-every",
        type=float,
        metavar="SECONDS",
        help="run the ACTIVE lifecycle policies every SECONDS of the emulator's clock (86400: daily); "
        "without it they run only when asked (POST /lifecycle-policies/run)",
    )
    parser.add_argument(
        "--container-registry-stage",
        metavar="STAGE[:CODE]",
        help="which Container Registry calls are served, as production's shutdown went: active (all; the "
        "default), read-only (reads only, as since 2026-11-10), shut-down (none, as from 2026-12-14) or "
        "by-date (by the emulator's clock); :CODE sets the refusals' status (default FAILED_PRECONDITION, "
        "UNIMPLEMENTED). Cloud Registry is never affected",
    )
    tls = parser.add_argument_group("TLS (plaintext is the default)")
    tls.add_argument("--tls", action="store_true", help="serve TLS on --port")
    tls.add_argument(
        "--tls-port", type=int, metavar="PORT", help="also serve TLS on this port, beside plaintext on --port"
    )
    tls.add_argument(
        "--ca-file",
        metavar="PATH",
        help="write the certificate clients must trust (PEM) here: the generated CA, or the --cert chain",
    )
    tls.add_argument("--cert", metavar="FILE", help="serve this certificate chain (PEM) instead of a generated one")
    tls.add_argument("--key", metavar="FILE", help="the private key (PEM) of --cert")
    auth = parser.add_argument_group("authentication")
    auth.add_argument(
        "--auth",
        choices=MODES,
        help="none: ignore credentials; any: require a Bearer token; strict: only --require-token tokens "
        "(default: strict with --require-token, else none)",
    )
    auth.add_argument(
        "--require-token",
        action="append",
        default=[],
        metavar="TOKEN[=FOLDER,...]",
        help="a token strict mode accepts, optionally limited to folders; repeatable",
    )
    parser.add_argument(
        "--stop-on-stdin-eof",
        action="store_true",
        help="stop (as on SIGTERM) when standard input reaches its end: a parent that starts the emulator "
        "with a pipe as its stdin then never leaves it running, even if the parent is killed",
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


def build_emulator(args: argparse.Namespace) -> Emulator:
    """The Emulator the flags describe; ValueError or OSError names a bad flag."""
    if bool(args.cert) != bool(args.key):
        raise ValueError("--cert and --key go together")
    if args.tls and args.tls_port is not None:
        raise ValueError("--tls serves TLS on --port; --tls-port adds a TLS port beside plaintext: choose one")
    if args.tls_port is not None and args.tls_port == args.port and args.port != 0:
        raise ValueError(f"--tls-port: must differ from --port ({args.port})")
    if (args.ca_file or args.cert) and not (args.tls or args.tls_port is not None):
        raise ValueError("--ca-file, --cert and --key need --tls or --tls-port")
    if args.max_operations < 0:
        raise ValueError(f"--max-operations: must be 0 or more, got {args.max_operations}")
    if args.admin_token is not None and args.admin_port is None:
        raise ValueError("--admin-token needs --admin-port")
    material = None
    if args.cert:
        try:
            material = tls_from_files(args.cert, args.key)
        except OSError as error:
            raise ValueError(f"--cert/--key: cannot read {error.filename}: {error.strerror}") from None
    clock = None
    if args.start_time is not None:
        try:
            clock = Clock(parse_timestamp(args.start_time, "--start-time"))
        except ValueError as error:  # SeedError and the clock's range are ValueErrors
            raise ValueError(f"--start-time: {str(error).partition(': ')[2] or error}") from None
    try:
        stage = parse_stage(ACTIVE if args.container_registry_stage is None else args.container_registry_stage)
    except ValueError as error:
        raise ValueError(f"--container-registry-stage: {str(error).partition(': ')[2]}") from None
    tokens = parse_token_specs(args.require_token)
    mode = args.auth or default_mode(tokens)
    return Emulator(
        host=args.host,
        port=args.port,
        admin_port=args.admin_port,
        tls=args.tls,
        tls_port=args.tls_port,
        tls_material=material,
        auth=mode,
        tokens=tokens,
        max_operations=args.max_operations,
        clock=clock,
        operations=args.operations,
        admin_token=args.admin_token,
        lifecycle_every=args.lifecycle_every,
        container_registry_stage=stage.spec,
    )


def describe(emulator: Emulator) -> str:
    """The ready line: the address first, then what a client needs to know."""
    counts = emulator.counts()
    parts = [f"{counts['registries']} registries, {counts['images']} images"]
    if emulator.tls:
        parts.append("tls")
    elif emulator.tls_endpoint:
        parts.append(f"tls {emulator.tls_endpoint}")
    if emulator.auth.mode != "none":
        parts.append(f"auth {emulator.auth.mode}")
    if emulator.admin_url:
        parts.append(f"admin {emulator.admin_url}")
    return f"{READY} {emulator.endpoint} ({'; '.join(parts)})"


def prepare_state_file(path: str) -> str | None:
    """Before serving: remove temporary files left by a writer that was killed, and check that
    the shutdown write can succeed. Returns what is wrong, if anything."""
    for stale in remove_stale_temporaries(path):
        logging.getLogger("emulator").warning("removed %s, left by a state file write that was cut short", stale)
    try:
        check_writable(path)
    except OSError as error:
        reason = error.strerror or str(error)
        return f"--state-file {path}: cannot be written there ({reason}); its directory must exist and be writable"
    return None


def save_state(path: str, emulator: Emulator) -> bool:
    """The shutdown write. If it fails, say so plainly and keep the state in a fallback file."""
    try:
        text = state_text(emulator.state(complete=False))
    except Exception as error:  # noqa: BLE001 (an emulator bug: say so rather than print a traceback)
        print(f"ycr-emulator: the state could not be written to {path}: encoding failed: {error!r}", file=sys.stderr)
        return False
    try:
        write_text_atomically(path, text)
        return True
    except OSError as error:
        problem = error.strerror or str(error)
    fallback = fallback_path(path)
    try:
        write_text_atomically(fallback, text)
    except OSError as error:
        print(
            f"ycr-emulator: the state could not be written to {path} ({problem}), nor to {fallback} "
            f"({error.strerror or error}): it is lost",
            file=sys.stderr,
        )
        return False
    print(
        f"ycr-emulator: the state could not be written to {path} ({problem}); it was written to {fallback} "
        f"instead (start with --state-file {fallback} to use it)",
        file=sys.stderr,
    )
    return False


# Subcommands: the contract tools, each a module with its own main(argv).
TOOLS = {"snapshot": "emulator.contract.snapshot", "diff": "emulator.contract.diff"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in TOOLS:
        return importlib.import_module(TOOLS[argv[0]]).main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        emulator = build_emulator(args)
    except ValueError as error:
        print(f"ycr-emulator: {error}", file=sys.stderr)
        return 2
    if args.state_file:
        problem = prepare_state_file(args.state_file)
        if problem:
            print(f"ycr-emulator: {problem}", file=sys.stderr)
            return 2
    source, path = initial_state(args)
    try:
        emulator.load_seed(path)
    except SeedError as error:
        untouched = " (the file is left untouched)" if source.startswith("state file") else ""
        print(f"ycr-emulator: bad {source}: {error}{untouched}", file=sys.stderr)
        return 2
    for spec in args.fault:
        try:
            rule = json.loads(spec)
            if not isinstance(rule, dict):
                raise ValueError("must be a JSON object")
            emulator.add_fault(**rule)
        except ValueError as error:  # json.JSONDecodeError is one
            print(f"ycr-emulator: --fault {spec}: {error}", file=sys.stderr)
            return 2
    if args.container_registry_stage is not None:  # the command line wins over a seed's or state file's stage
        emulator.set_container_registry_stage(args.container_registry_stage)
    if args.operations:  # the command line wins over the modes a seed or state file holds
        emulator.configure_operations(
            {**emulator.operation_modes, **modes_json(parse_modes(args.operations, CATALOGUE))}
        )
    try:
        emulator.start()
    except OSError as error:
        print(f"ycr-emulator: {error}", file=sys.stderr)
        return 1
    if args.ca_file and emulator.ca_pem:
        Path(args.ca_file).write_bytes(emulator.ca_pem)

    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    if args.stop_on_stdin_eof:
        threading.Thread(target=_set_at_stdin_eof, args=(stopping,), name="ycr-stdin", daemon=True).start()
    if emulator.auth.mode == "strict" and not args.require_token:  # legitimate (tokens may come later), but say it
        print(
            "ycr-emulator: warning: --auth strict without --require-token refuses every call until tokens are "
            "set (--require-token TOKEN=FOLDER, or the control plane's POST /auth)",
            file=sys.stderr, flush=True,
        )  # fmt: skip
    print(describe(emulator), flush=True)
    while not stopping.wait(0.5):
        pass
    emulator.stop(grace=1.0)
    if args.state_file and not save_state(args.state_file, emulator):
        return 1
    try:
        print("ycr-emulator stopped", flush=True)
    except BrokenPipeError:  # nobody reads stdout any more (a parent that died): nothing to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # and nothing to flush at exit
    return 0


def _set_at_stdin_eof(stopping: threading.Event) -> None:
    """Read stdin until its end (the write end closed: the parent exited or was killed), then stop."""
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except (OSError, ValueError, AttributeError):  # no usable stdin (closed, None): as good as at its end
        pass
    stopping.set()


if __name__ == "__main__":
    sys.exit(main())
