"""The example project of docs/example-project.md (docs/example/: registry-janitor, a clean-up job for
Cloud Registry, and its tests on the plugin), run as its user runs it: the page's command as written, in
a copy of the project, with this venv's pytest and the plugin installed in it. Every one of its tests
passes and none is skipped, and each realistic bug below fails the tests that should catch it, named."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _pytest.pytester import RunResult

from tests.support.docs import DOCS, assert_on_page

EXAMPLE = DOCS / "example"
BIN = Path(sys.executable).parent  # the venv's bin, first on the user's PATH
NOISE = re.compile(r"goaway|Exception ignored|Traceback|ResourceWarning|PytestUnraisable", re.IGNORECASE)
TESTS = len(re.findall(r"^def test_", (EXAMPLE / "tests" / "test_janitor.py").read_text(), re.MULTILINE))

DOC_RUN_TESTS = """\
cd docs/example
pytest
"""


def _copy(root: Path) -> Path:
    """The example project, copied to ``root/docs/example`` (the page's command starts from ``root``)."""
    shutil.copytree(EXAMPLE, root / "docs" / "example", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return root / "docs" / "example"


def _environment() -> dict[str, str]:
    """A user's shell: the venv on PATH, nothing of this session's pytest, xdist or emulator settings.
    Hypothesis's pytest plugin is left out: this venv has it for the suite, a user's has not, and it
    costs each run a second."""
    drop = ("PYTEST_", "YCR_", "PYTHONPATH")
    env = {name: value for name, value in os.environ.items() if not name.startswith(drop)}
    path = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "PATH": path, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_ADDOPTS": "-p no:hypothesispytest"}


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rf", *args]
    return subprocess.run(command, cwd=project, env=_environment(), capture_output=True, text=True, timeout=120)


def _passed(run: subprocess.CompletedProcess) -> None:
    """Every test passed: none skipped (a missing SDK must fail, not skip), nothing printed after them."""
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert RunResult.parse_summary_nouns(run.stdout.splitlines()) == {"passed": TESTS}, output
    assert not NOISE.search(output), output


def test_the_pages_command_runs_every_test(tmp_path):
    assert TESTS == 9
    assert_on_page("example-project.md", DOC_RUN_TESTS=DOC_RUN_TESTS)
    _copy(tmp_path)
    run = subprocess.run(
        ["bash", "-e", "-c", DOC_RUN_TESTS], cwd=tmp_path, env=_environment(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    _passed(run)
    assert "ycr-emulator plugin: inprocess mode" in run.stdout and "configfile: pyproject.toml" in run.stdout


def test_the_page_shows_every_file_of_the_project():
    files = sorted(
        str(path.relative_to(DOCS))
        for path in EXAMPLE.rglob("*")
        if path.is_file() and not any(part.startswith((".", "__pycache__")) for part in path.relative_to(EXAMPLE).parts)
    )  # caches aside
    assert files == ["example/janitor.py", "example/pyproject.toml", "example/tests/test_janitor.py"]
    for name in files:
        assert_on_page("example-project.md", **{name: f'--8<-- "{name}"\n'})


# A realistic bug in the tool -> (the exact text it replaces, its replacement, the tests that must fail);
# between them, every test of the example fails once.
BUGS = {
    "deletes tagged images too": (
        " if artifact.name == artifact.content.docker.manifest_digest]",
        "]",
        {
            "test_old_untagged_images_go_and_the_rest_stay",
            "test_a_dry_run_deletes_nothing",
            "test_a_flaky_list_is_retried_by_the_sdks_retry_policy",
            "test_a_refused_delete_is_reported_and_the_others_go_on",
            "test_a_delete_whose_operation_fails_is_reported",
        },
    ),
    "ignores the dry run": ("    if dry_run:\n        return report\n", "", {"test_a_dry_run_deletes_nothing"}),
    "reads the first page only": (
        "request.page_token = page.next_page_token",
        "return found",
        {"test_every_page_is_read_before_anything_is_deleted"},
    ),
    "does not wait for the operations": (
        "sdk.wait_operation_and_get_result(operation, meta_type=DeleteArtifactMetadata)",
        "pass",
        {"test_a_delete_whose_operation_fails_is_reported", "test_the_janitor_waits_for_pending_deletes"},
    ),
    "swallows a failing List": (
        "        page = artifacts.List(request)\n",
        "        try:\n            page = artifacts.List(request)\n        except grpc.RpcError:\n            return found\n",
        {"test_a_list_that_keeps_failing_fails_the_run"},
    ),
    "counts the age in hours": (  # the seeded images are years old: only the clock's test sees it
        "timedelta(days=days)",
        "timedelta(hours=days)",
        {"test_age_is_measured_on_the_emulators_clock"},
    ),
}


@pytest.mark.parametrize("bug", BUGS)
def test_a_bug_in_the_tool_fails_the_tests_that_should_catch_it(tmp_path, bug):
    text, replacement, expected = BUGS[bug]
    project = _copy(tmp_path)
    tool = project / "janitor.py"
    source = tool.read_text()
    assert source.count(text) == 1, f"the bug's text is no longer in janitor.py once: {text!r}"
    tool.write_text(source.replace(text, replacement))
    run = _pytest(project)
    failed = set(re.findall(r"^FAILED tests/test_janitor\.py::(\w+)", run.stdout, re.MULTILINE))
    assert failed == expected, run.stdout + run.stderr
    counts = RunResult.parse_summary_nouns(run.stdout.splitlines())
    assert counts == {"failed": len(expected), "passed": TESTS - len(expected)}, run.stdout


def test_every_test_of_the_example_is_failed_by_some_bug():
    tests = re.findall(r"^def (test_\w+)", (EXAMPLE / "tests" / "test_janitor.py").read_text(), re.MULTILINE)
    caught = set().union(*(expected for _, _, expected in BUGS.values()))
    assert caught == set(tests)
