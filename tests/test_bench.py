"""Keeps the benchmarks working: `python -m bench --quick` on tiny sizes. Times are not
asserted here (the suite has no timed tests); only that every section ran and reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_command_runs_on_tiny_sizes(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results["overhead"]) == {f"{m} x{n}" for m in ("Get", "List", "Delete") for n in (1, 8)}
    assert all(row["ratio"] > 0 for row in results["overhead"].values())
    assert len(results["scaling"]) == 30
    assert results["startup"]["reset_ms"] >= 0 and results["startup"]["exec_to_first_call_ms"] > 0
    assert results["seeding"]["bytes_per_image_derived_layers"] > 0
    assert "skipped" in results["peer"] or results["peer"]["ratio_moto_over_emulator"] > 0
    loaded = results["load"]
    assert loaded["error_count"] == 0, loaded["errors"]
    assert loaded["duplicates"] == 0 and loaded["walks"] > 0
    assert all(row["calls"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0 for row in loaded["methods"].values())
    cycles, tokens = results["memory"]["delete_add"], results["memory"]["iam_token"]
    assert cycles["failed_calls"] == 0 and cycles["images_left"] == 0 and cycles["rss_after"] > 0
    assert tokens["failed_calls"] == 0 and tokens["rss_after"] > 0
    assert "| measurement |" in result.stdout
    assert "memory retained per Delete+add cycle" in result.stdout and "errors (duplicates" in result.stdout
