"""The documentation (README.md and docs/): the site builds strictly, the README reaches every page
in one click, and every code block of every page is run by the suite as written or checked against
the code it shows.

A block is run when a test module holds it (or more around it) as a ``DOC_*`` string and runs that;
the tests that check blocks they cannot run (commands against production, output shown, the design
tree) are here, each holding its blocks as ``DOC_*`` strings too."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from google.protobuf import json_format

from emulator import Emulator
from emulator.api.wire import message_class
from emulator.cli import DEMO_SEED, TOOLS
from emulator.cli import parse_args as parse_emulator_args
from emulator.rpc.services import CATALOGUE
from tests.support.docs import DOCS, GENERATED, REPOSITORY, assert_on_page, block_holding, blocks, page, pages

# ---- the site --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as CI builds it: strict, so a broken link, anchor or include fails."""
    built = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(built)],
        cwd=REPOSITORY,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}{run.stderr}"
    return built


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)


def _built(site: Path, page_name: str) -> str:
    """A page's HTML as the site has it (MkDocs' directory URLs: ``x.md`` is ``x/index.html``)."""
    path = "index.html" if page_name == "index.md" else page_name.removesuffix(".md") + "/index.html"
    return (site / path).read_text(encoding="utf-8")


def _anchors(site: Path, page_name: str) -> set[str]:
    parser = _Ids()
    parser.feed(_built(site, page_name))
    return parser.ids


def test_every_page_is_in_the_navigation(site):
    """A page left out of mkdocs.yml's nav is built but found by no reader."""
    nav = (REPOSITORY / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [name for name in pages()[1:] if f": {name}" not in nav]
    assert not missing, f"add to mkdocs.yml's nav: {missing}"


def test_the_readmes_links_reach_pages_and_their_sections(site):
    """mkdocs checks docs/'s links; the README's (read on GitHub) are checked here against the site."""
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", page("README.md"))
    assert links, "the README links to no page"
    for target, anchor in links:
        assert (REPOSITORY / target).is_file(), f"README links to {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(site, target.removeprefix("docs/")), f"{target} has no section #{anchor}"


def test_a_newcomer_reaches_the_plugin_faults_and_ci_in_one_click():
    readme = page("README.md")
    for wanted in (
        "docs/pytest-plugin.md",
        "docs/unhappy-paths.md#faults-and-recorded-calls",
        "docs/pytest-plugin.md#in-ci-with-the-standalone-process",
    ):
        assert f"]({wanted})" in readme, f"the README does not link to {wanted}"


# ---- every block run or checked ----------------------------------------------------------------------


def _documented_snippets() -> dict[str, str]:
    """Every ``DOC_*`` string of the test modules, by ``module.NAME``."""
    found = {}
    for path in sorted((REPOSITORY / "tests").rglob("test_*.py")):
        if "node_modules" in path.parts or "DOC_" not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(".".join(path.relative_to(REPOSITORY).with_suffix("").parts))
        for name, value in vars(module).items():
            if name.startswith("DOC_") and isinstance(value, str):
                found[f"{module.__name__}.{name}"] = value
    return found


def _included(body: str) -> bool:
    """A block that only includes files of the example project (tests/test_example_project.py runs them)."""
    lines = body.splitlines()
    return bool(lines) and all(
        re.fullmatch(r'--8<-- "example/[^"]+"', line) and (DOCS / line.split('"')[1]).is_file() for line in lines
    )


def test_every_code_block_is_run_or_checked():
    snippets = _documented_snippets().values()
    unchecked = [
        str(block)
        for name in pages()
        if name not in GENERATED
        for block in blocks(name)
        if not _included(block.body) and not any(block.body in snippet for snippet in snippets)
    ]
    assert not unchecked, "code blocks no test runs or checks (hold each in a DOC_* string that a test uses):\n" + (
        "\n".join(unchecked)
    )


def test_an_unchecked_block_is_found(tmp_path, monkeypatch):
    """The check above can fail: a page with a block no test holds is named."""
    import tests.support.docs as docs

    (tmp_path / "new.md").write_text("# New\n\n```sh\nycr-emulator --no-such-flag\n```\n")
    _documented_snippets()  # test modules read their pages at import: import them before DOCS moves
    monkeypatch.setattr(docs, "DOCS", tmp_path)
    with pytest.raises(AssertionError, match=r"new.md:3 \(sh\): 'ycr-emulator --no-such-flag'"):
        test_every_code_block_is_run_or_checked()


# ---- the README's first screen ------------------------------------------------------------------------

DOC_START_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install . && ycr-emulator\n"
DOC_TEST_COMMAND = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && tests/clients/install && pytest -n auto\n'


def test_the_second_command_is_what_ci_runs():
    assert_on_page("README.md", DOC_START_COMMAND=DOC_START_COMMAND, DOC_TEST_COMMAND=DOC_TEST_COMMAND)
    assert_on_page("quick-start.md", DOC_START_COMMAND=DOC_START_COMMAND)
    assert DOC_TEST_COMMAND.strip() in (REPOSITORY / ".ci" / "run").read_text()
    # the first one is run by tests/test_standalone.py's ready-line tests through the same entry point
    assert 'ycr-emulator = "emulator.cli:main"' in (REPOSITORY / "pyproject.toml").read_text()


DOC_README_EXAMPLE = page("README.md").split("```python\n", 1)[1].split("```\n", 1)[0]


def test_the_readmes_example_passes_and_can_fail(pytester):
    """The README's ten lines, in a downstream project; with the tool's rule inverted they fail."""
    assert DOC_README_EXAMPLE.startswith("# test_janitor.py")
    assert len(DOC_README_EXAMPLE.splitlines()) <= 12
    pytester.makepyfile(test_janitor=DOC_README_EXAMPLE)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)
    pytester.makepyfile(test_janitor=DOC_README_EXAMPLE.replace("if not image.tags:", "if image.tags:"))
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(failed=1)


# ---- blocks checked against the code they show ----------------------------------------------------------


DOC_SNAPSHOT_PRODUCTION = block_holding("contract-testing.md", "ycr-emulator --seed seed.json --tls --ca-file ca.pem")
DOC_CONTRACT_PRODUCTION = block_holding("contract-testing.md", "yc config set service-account-key key.json")
DOC_DIFF_PRODUCTION = block_holding("contract-testing.md", "ycr-emulator diff localhost:50052 api.cloud.yandex.net:443")
DOC_DIFF_OUTPUT = block_holding("contract-testing.md", "#1 ImageService/List")
DOC_ADMIN_TOKEN = block_holding("standalone.md", 'ycr-emulator --admin-port 8081 --admin-token "$ADMIN_TOKEN"')
DOC_BENCH = block_holding("contributing/performance.md", 'pip install -e ".[test,bench]"')
DOC_DESIGN_TREE = block_holding("contributing/design.md", "emulator/ ")
DOC_SEED = block_holding("standalone.md", '{"registries": [')
DOC_SEED_REGISTRY_FIELDS = block_holding("standalone.md", '   "repositories": [')


def _commands(script: str) -> list[list[str]]:
    """Each ``ycr-emulator`` command of a script, as its words (placeholders filled, redirections and
    continuation lines dropped)."""
    text = script.replace("\\\n", " ").replace("<folder id>", "b1g0000000000000ycrt")
    commands = []
    for line in text.splitlines():
        words = shlex.split(line.split(" #")[0].split(">")[0].rstrip(" &"))
        if words[:1] == ["ycr-emulator"]:
            commands.append(words[1:])
    return commands


@pytest.mark.parametrize(
    "script", [DOC_SNAPSHOT_PRODUCTION, DOC_DIFF_PRODUCTION, DOC_ADMIN_TOKEN], ids=["snapshot", "diff", "admin"]
)
def test_the_commands_against_production_take_the_flags_they_show(script, monkeypatch):
    """What cannot run here (it needs production and its token) is parsed by the parser it names."""
    monkeypatch.setenv("ADMIN_TOKEN", "docs-token")
    commands = _commands(os.path.expandvars(script))
    assert commands
    for words in commands:
        if words[0] in TOOLS:
            importlib.import_module(TOOLS[words[0]]).parse_args(words[1:])
        else:
            parse_emulator_args(words)


def test_the_contract_suites_settings_are_the_ones_it_reads():
    conftest = (REPOSITORY / "tests" / "contract" / "conftest.py").read_text()
    for variable in re.findall(r"export (YCR_CONTRACT_\w+)=", DOC_CONTRACT_PRODUCTION):
        assert variable in conftest, f"tests/contract does not read {variable}"
    for marker in re.findall(r'-m "not (\w+)"', DOC_CONTRACT_PRODUCTION):
        assert f'"{marker}: ' in conftest, f"tests/contract registers no marker {marker}"


def test_the_diff_output_shown_is_what_diff_writes():
    source = (REPOSITORY / "emulator" / "contract" / "diff.py").read_text()
    assert "Ids only one side lists (and how many differing requests showed each):" in DOC_DIFF_OUTPUT
    for fixed in ("Ids only one side lists (and how many differing requests showed each):", "difference: ", "only in "):
        assert fixed in source, f"diff no longer writes {fixed!r}"
    assert re.search(r"^\d+ requests, \d+ differences \(random seed \d+\)$", DOC_DIFF_OUTPUT, re.MULTILINE)


def test_the_benchmark_command_is_the_benchmarks():
    assert "bench" in (REPOSITORY / "pyproject.toml").read_text().split("[project.optional-dependencies]")[1]
    assert '"--quick"' in (REPOSITORY / "bench" / "__main__.py").read_text() and "--quick" in DOC_BENCH


def test_the_design_tree_names_files_that_exist():
    """Each path the tree shows (a word ending in / or .py under a folder it shows) exists."""
    missing, folders = [], []
    for line in DOC_DESIGN_TREE.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        words = line.split()
        names = words[:1] + [word for word in words[1:] if word.endswith(".py")]  # a second column: a module
        names = [name for name in names if re.fullmatch(r"[\w.-]+(/|\.py|\.json|\.binpb)", name)]
        for index, name in enumerate(names):
            if index == 0:
                folders[depth:] = []
                parent = Path(*folders)
            path = parent / name
            if not (REPOSITORY / path).exists() and not (REPOSITORY / "tests" / path).exists():
                missing.append(str(path))
            if index == 0 and name.endswith("/"):
                folders.append(name)
    assert not missing, f"contributing/design.md shows paths that do not exist: {missing}"


def test_the_seed_examples_load():
    hexes = "0123456789abcdef" * 4
    seed = json.loads(DOC_SEED.replace("<64 hex>", hexes))
    entry = json.loads("{" + DOC_SEED_REGISTRY_FIELDS.replace("[...]", "[]") + "}")
    with Emulator(seed=seed) as emulator:
        assert list(emulator.images) == ["crpa2mf008mpjig73rp6"]
    registry = {"folder_id": "b1g0000000000000demo", "images": [{"repository": "team/web"}], **entry}
    with Emulator(seed={"registries": [registry]}) as emulator:
        assert [repository.id for repository in emulator.repositories.values()] == ["crp5o2k1v8k0c7nqtd1e"]


DOC_GRPCURL = block_holding("quick-start.md", "grpcurl -plaintext localhost:50051 list")


def test_the_grpcurl_calls_answer_on_the_demo_data():
    """grpcurl is not installed here: each call it shows is sent as grpcurl would send it (the JSON
    as the request, by the method's name through reflection's descriptors), to an emulator on the
    demo data, and answers OK; ``list`` names the services reflection serves."""
    calls = [shlex.split(line) for line in DOC_GRPCURL.splitlines()]
    assert calls[0] == ["grpcurl", "-plaintext", "localhost:50051", "list"]
    demo = Path(str(resources.files("emulator").joinpath(DEMO_SEED)))
    with Emulator(seed=demo) as emulator, emulator.channel() as channel:
        for words in calls[1:]:
            assert words[:3] == ["grpcurl", "-plaintext", "-d"] and words[4] == "localhost:50051", words
            method = CATALOGUE.method(words[5])
            assert method is not None, f"{words[5]} is not served"
            request = json_format.Parse(words[3], message_class(method.request_type)())
            call = channel.unary_unary(
                f"/{method.full}",
                request_serializer=type(request).SerializeToString,
                response_deserializer=message_class(method.response_type).FromString,
            )
            call(request, timeout=10)  # raises unless OK


class _Paragraphs(HTMLParser):
    """The text of each <p>, to find Markdown that did not render (a list item read as text)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self._depth += 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if tag == "p":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.texts[-1] += data


def test_no_list_item_is_rendered_as_text(site):
    """Python-Markdown ends a list at a block indented less than 4 spaces, or needs a blank line
    before one: its items then read as "- ..." inside a paragraph, which the strict build accepts."""
    broken = []
    for name in pages()[1:]:
        parser = _Paragraphs()
        parser.feed(_built(site, name))
        broken += [
            f"{name}: {line.strip()[:80]!r}"
            for text in parser.texts
            for line in text.splitlines()
            if re.match(r"\s*([-*]|\d+\.) \S", line)
        ]
    assert not broken, (
        "list items rendered as text (indent their blocks by 4 spaces; a blank line before a list):\n"
        + "\n".join(broken)
    )
