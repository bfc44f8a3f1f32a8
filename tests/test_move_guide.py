"""The guide's "The move, rehearsed" (docs/moving-to-cloud-registry.md), run as written: the plugin's test_move.py in the plugin's
modes, and the standalone recipe (its shell lines on free ports instead of 50051 and 8081, with its
move.py and the seed file it names)."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs import block_holding

BIN = Path(sys.executable).parent


GUIDE = "moving-to-cloud-registry.md"
DOC_TEST_MOVE = block_holding(GUIDE, "# test_move.py -- rehearse")
DOC_MOVE = block_holding(GUIDE, "# move.py -- the same rehearsal")
DOC_SHELL = block_holding(GUIDE, "ycr-emulator --seed move-seed.json")


def _seed() -> dict:
    """The SEED of test_move.py (the guide says the seed file holds it, as JSON)."""
    tree = ast.parse(DOC_TEST_MOVE)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = eval(
                compile(ast.Expression(node.value), "moving-to-cloud-registry.md", "eval"), {}, values
            )
    return values["SEED"]


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_the_plugin_recipe_runs_as_written(pytester, mode):
    pytester.makepyfile(test_move=DOC_TEST_MOVE)
    result = pytester.runpytest_subprocess(f"--ycr-mode={mode}", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def _free_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]


def test_the_standalone_recipe_runs_as_written(tmp_path):
    (tmp_path / "test_move.py").write_text(DOC_TEST_MOVE)
    (tmp_path / "move.py").write_text(DOC_MOVE)
    (tmp_path / "move-seed.json").write_text(json.dumps(_seed()))
    port, admin = _free_port(), _free_port()
    script = DOC_SHELL.replace("50051", str(port)).replace("8081", str(admin))
    assert script != DOC_SHELL
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env = {key: value for key, value in env.items() if not key.startswith(("YCR_", "PYTEST_"))}
    result = subprocess.run(
        ["bash", "-c", f"set -e\n{script}\nkill %1\nwait %1 || true\n"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "moved crp" in result.stdout and "4 tags, the same in Cloud Registry" in result.stdout
