"""Run every benchmark and print a table of medians and ratios; write it as JSON too.

    python -m bench                 # the full run (about 6 minutes on 2 cores)
    python -m bench --quick         # tiny sizes: checks that the benchmarks work
    python -m bench --json out.json

Every figure is a median of several runs, and every ratio compares against a baseline
measured in the same run, because these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

from bench import lifecycle, load, memory, overhead, peer, scaling, seeding, startup

TARGETS = {
    "Get": 1.10,
    "List": 1.10,
    "Delete": 1.25,
}


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def collect(quick: bool) -> dict:
    sizes = (
        {"calls": 200, "rounds": 2, "small": 200, "large": 2_000, "scale_calls": 20, "paging": (1_000, 4_000),
         "reset": 2_000, "seed": 5_000, "memory": 5_000, "repeats": 3, "peer": 1, "lifecycle": (200, 2_000, 10),
         "load": {"clients": 2, "seconds": 2.0, "per_client": 10, "shared": 50},
         "retained": {"warmup_cycles": 200, "cycles": 300, "warmup_tokens": 100, "tokens": 300, "threads": 2}}
        if quick else
        {"calls": 2_000, "rounds": 5, "small": 1_000, "large": 1_000_000, "scale_calls": 100,
         "paging": (10_000, 100_000), "reset": 100_000, "seed": 1_000_000, "memory": 200_000, "repeats": 21,
         "lifecycle": (1_000, 100_000, 50),
         "peer": 7, "load": {"clients": 16, "seconds": 20.0, "per_client": 50, "shared": 1_500},
         "retained": {"warmup_cycles": 15_000, "cycles": 10_000, "warmup_tokens": 2_000, "tokens": 50_000, "threads": 4}}
    )  # fmt: skip
    results = {"machine": f"{platform.machine()} {platform.python_version()}", "commit": _commit(), "quick": quick}
    started = time.perf_counter()
    results["overhead"] = overhead.run(calls=sizes["calls"], rounds=sizes["rounds"])
    results["scaling"] = scaling.run(
        small=sizes["small"], large=sizes["large"], calls=sizes["scale_calls"], rounds=sizes["rounds"]
    )
    results["paging"] = scaling.paging_cost(sizes["paging"])
    results["startup"] = {
        **startup.in_process(sizes["repeats"]),
        **startup.reset(sizes["reset"], min(sizes["repeats"], 7)),
        **startup.standalone(min(sizes["repeats"], 7)),
    }
    results["seeding"] = seeding.run(sizes["seed"], sizes["memory"])
    results["lifecycle"] = lifecycle.run(*sizes["lifecycle"])
    results["peer"] = peer.run(sizes["peer"])
    results["load"] = load.run(**sizes["load"])
    results["memory"] = memory.run(**sizes["retained"])
    results["seconds"] = time.perf_counter() - started
    return results


def table(results: dict) -> str:
    lines = ["| measurement | baseline | emulator | ratio | target |", "| --- | --- | --- | --- | --- |"]
    for name, row in results["overhead"].items():
        target = TARGETS[name.split()[0]]
        lines.append(
            f"| {name} call, p50 (vs no-op server) | {row['noop_us']:.0f} µs | {row['emulator_us']:.0f} µs "
            f"| {row['ratio']:.2f} | ≤ {target:.2f} |"
        )
    for name, row in results["scaling"].items():
        if "first call" in name:  # one call, which builds the scope's index of that order: O(N log N)
            lines.append(
                f"| List {name}, N small vs large | {row['small_us'] / 1e3:.1f} ms | {row['large_us'] / 1e3:.0f} ms "
                f"| {row['ratio']:.0f} | once per scope |"
            )
            continue
        lines.append(
            f"| List {name}, p50 (N small vs large) | {row['small_us']:.0f} µs | {row['large_us']:.0f} µs "
            f"| {row['ratio']:.2f} | ≤ 1.20 |"
        )
    per_image = results["paging"]["us_per_image"]
    sizes = sorted(per_image, key=int)
    lines.append(
        f"| paging through all N, per image (N={sizes[0]} vs {sizes[-1]}) | {per_image[sizes[0]]:.1f} µs "
        f"| {per_image[sizes[-1]]:.1f} µs | {per_image[sizes[-1]] / per_image[sizes[0]]:.2f} | flat (O(N)) |"
    )
    up = results["startup"]
    lines += [
        f"| in-process start to first call | | {up['start_ms']:.1f} ms | | < 20 ms |",
        f"| in-process stop | | {up['stop_ms']:.1f} ms | | |",
        f"| reset() with {up['images']:,} images | | {up['reset_ms']:.2f} ms | | < 1 ms |",
        f"| standalone exec to first call | | {up['exec_to_first_call_ms']:.0f} ms | | < 400 ms |",
    ]
    seed = results["seeding"]
    lines += [
        f"| load {seed['images']:,} images from a seed file (layers derived) | | {seed['load_seconds']:.1f} s | | < 10 s |",
        f"| the same with 3 given layers each | | {seed['load_seconds_given_layers']:.1f} s | | |",
        f"| memory per image, 3 layers (derived), 2 tags | | {seed['bytes_per_image_derived_layers']:.0f} B | "
        "| ≤ 1024 B |",
        f"| memory per image, 3 given layers, 2 tags | | {seed['bytes_per_image_given_layers']:.0f} B | | ≤ 1024 B |",
    ]
    lifecycle_rows = results["lifecycle"]
    for method, row in lifecycle_rows["rows"].items():
        if method == "DryRun":
            lines.append(
                f"| LifecyclePolicyService/DryRun over {row['images']:,} images (vs ImageService/List's first page) "
                f"| {row['page_us'] / 1e3:.1f} ms | {row['us'] / 1e3:.0f} ms | {row['ratio']:.0f} | |"
            )
            continue
        lines.append(
            f"| {method} first page, p50 (N={lifecycle_rows['small']:,} vs {lifecycle_rows['large']:,} in scope) "
            f"| {row['small_us']:.0f} µs | {row['large_us']:.0f} µs | {row['ratio']:.2f} | ≤ 1.20 |"
        )
    if "skipped" in results["peer"]:
        lines.append(f"| peer: moto ECR scenario | skipped: {results['peer']['skipped']} | | | |")
    else:
        p = results["peer"]
        lines.append(
            f"| peer scenario (start, seed 100, list, get, delete, stop): moto vs emulator | "
            f"{p['moto_s'] * 1e3:.0f} ms | {p['emulator_s'] * 1e3:.0f} ms | moto is {p['ratio_moto_over_emulator']:.1f}x "
            "slower | |"
        )
    lines += _load_and_memory_rows(results["load"], results["memory"])
    return "\n".join(lines)


def _load_and_memory_rows(loaded: dict, retained: dict) -> list[str]:
    errors = f"{loaded['error_count']}" + (f": {loaded['errors']}" if loaded["errors"] else "")
    lines = [
        f"| load: {loaded['clients']} clients x {loaded['seconds']:.0f} s of mixed calls, errors "
        f"(duplicates in {loaded['walks']:,} page walks) | | {errors} ({loaded['duplicates']}) | | 0 |"
    ]
    for method, row in loaded["methods"].items():
        lines.append(
            f"| load: {method}, p99 (p50), {row['calls']:,} calls | | {row['p99_ms']:.1f} ms ({row['p50_ms']:.1f} ms) "
            "| | |"
        )
    cycle, token = retained["delete_add"], retained["iam_token"]
    lines += [
        f"| memory retained per Delete+add cycle, after {cycle['warmup_cycles']:,} cycles | "
        f"| {cycle['bytes_per_cycle']:.0f} B | | < 150 B |",
        f"| memory retained per IAM token | | {token['bytes_per_token']:.0f} B | | < 50 B |",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmarks work")
    parser.add_argument("--json", metavar="PATH", help="where to write the results (default: bench/results/)")
    args = parser.parse_args(argv)
    results = collect(args.quick)
    path = Path(args.json) if args.json else Path("bench/results") / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))
    print(table(results))
    print(f"\n{results['machine']}, commit {results['commit']}, {results['seconds']:.0f} s; JSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
