"""docs/fidelity.md is what tests/support/fidelity.py makes of the code, and the generator refuses a
behaviour marker it could not put on the page truthfully: an unknown method or status, a documented
behaviour without a link, a choice without its reason, a marker it cannot read or place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from emulator.api.wire import CONTAINER_REGISTRY
from emulator.state.stages import READ_ONLY_FROM, SHUT_DOWN_FROM
from tests.support import fidelity
from tests.support.exercised import EXERCISED, assert_exercised

PATH = "tests/test_example.py"


def test_the_page_is_what_the_code_makes_of_it():
    assert fidelity.PAGE.read_text() == fidelity.render(), (
        f"docs/fidelity.md is stale: regenerate it with `{fidelity.COMMAND}` and commit it"
    )


def test_the_page_carries_container_registrys_shutdown_dates():
    page = fidelity.render()
    assert f"read-only from\n{READ_ONLY_FROM:%Y-%m-%d} 00:00 (UTC+03:00)" in page
    assert f"shut down from {SHUT_DOWN_FROM:%Y-%m-%d} 00:00 (UTC+03:00)" in page
    assert f"`{CONTAINER_REGISTRY}`" in page


def test_every_method_of_the_descriptors_is_on_the_page_served_or_not():
    page = fidelity.render()
    rows = fidelity.rows()
    assert {row.served for row in rows} == {True, False}
    for row in rows:
        assert f"| `{row.short}` | {'✓' if row.served else '✗'} | {row.answers} |" in page, row


def test_every_served_method_has_a_behaviour_of_its_own_or_of_its_service():
    """A new method needs a test marked with what it does, and how that stands with production."""
    marked = {behaviour.method for behaviour in fidelity.behaviours() if behaviour.status != "not emulated"}
    bare = [row.short for row in fidelity.rows() if row.served and not {row.short, row.service} & marked]
    assert not bare, f"served methods no test marks a behaviour of (pytest.mark.behaviour): {bare}"


def _marker(*args: str, where: str = "") -> str:
    return f"import pytest\n\n\n{where}@pytest.mark.behaviour({', '.join(map(repr, args))})\ndef test_it():\n    pass\n"


def test_a_marker_is_read_with_the_test_that_carries_it():
    source = (
        "import pytest\n\n\nclass TestImages:\n"
        "    @pytest.mark.behaviour('ImageService/List', 'choice', 'Lists.', 'because')\n"
        "    @pytest.mark.behaviour(method='ImageService', status='documented', what='Serves.',"
        " evidence='yandex/cloud/containerregistry/v1/image_service.proto')\n"
        "    def test_it(self):\n        pass\n"
    )
    found = fidelity.markers_in(source, PATH)
    assert [(b.method, b.status, b.test) for b in found] == [
        ("ImageService/List", "choice", f"{PATH}::TestImages::test_it"),
        ("ImageService", "documented", f"{PATH}::TestImages::test_it"),
    ]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (_marker("ImageService/Lst", "choice", "Lists.", "because"), "did you mean ImageService/List"),
        (_marker("NoSuchService", "choice", "Lists.", "because"), "'NoSuchService' is no method or service"),
        (_marker("ImageService/List", "guessed", "Lists.", "because"), "'guessed' is neither of documented, choice"),
        (_marker("ImageService/List", "not emulated", "Lists.", "because"), "add it to NOT_EMULATED"),
        (_marker("ImageService/List", "documented", "Lists.", "the docs say so"), "evidence needs a link"),
        (
            _marker("ImageService/List", "documented", "Lists.", "yandex/cloud/containerregistry/v1/nope.proto"),
            "not under emulator/proto/",
        ),
        (_marker("ImageService/List", "choice", "Lists.", ""), "evidence must be one line of text"),
        (_marker("ImageService/List", "choice", "", "because"), "what must be one line of text"),
        (_marker("ImageService/List", "choice", "Lists."), "takes exactly (method, status, what, evidence)"),
        (
            "import pytest\nMETHOD = 'ImageService/List'\n\n\n"
            "@pytest.mark.behaviour(METHOD, 'choice', 'Lists.', 'because')\ndef test_it():\n    pass\n",
            "method must be a literal string",
        ),
        (
            "import pytest\n\npytestmark = pytest.mark.behaviour('ImageService/List', 'choice', 'Lists.', 'because')\n",
            "belongs among a test function's decorators",
        ),
        (_marker("ImageService/List", "choice", "Lists.", "because").replace("test_it", "helper"), "belongs among"),
        ("import pytest\n\n\n@pytest.mark.behaviour\ndef test_it():\n    pass\n", "needs its arguments"),
    ],
    ids=[
        "misspelled-method", "unknown-service", "unknown-status", "not-emulated-status", "documented-without-link",
        "documented-missing-proto", "choice-without-evidence", "no-what", "three-arguments", "not-a-literal",
        "pytestmark", "not-a-test", "bare",
    ],
)  # fmt: skip
def test_a_wrong_marker_is_refused_saying_where_and_why(source, says):
    with pytest.raises(ValueError, match=r"^tests/test_example\.py:\d+: ") as refused:
        fidelity.markers_in(source, PATH)
    assert says in str(refused.value)


def test_a_not_emulated_entry_is_checked_too(monkeypatch):
    monkeypatch.setattr(fidelity, "NOT_EMULATED", (("ImageService/Lst", "Nothing."),))
    fidelity.behaviours.cache_clear()
    try:
        with pytest.raises(ValueError, match="NOT_EMULATED: behaviour method 'ImageService/Lst'"):
            fidelity.behaviours()
    finally:
        fidelity.behaviours.cache_clear()


# ---- the SDK scenarios ----------------------------------------------------------------------------


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)}


def test_every_scenario_is_checked_by_the_test_it_names():
    """The declaration is only as good as the check: each scenario's test must call assert_exercised."""
    for sdk, scenarios in EXERCISED.items():
        for scenario, declared in scenarios.items():
            path, _, name = declared.test.partition("::")
            function = _functions(fidelity.REPOSITORY / path).get(name)
            assert function is not None, f"{sdk} {scenario}: {declared.test} is no test"
            called = {
                node.func.id
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            }
            assert "assert_exercised" in called, f"{sdk} {scenario}: {declared.test} never calls assert_exercised"


def _calls(*methods: str) -> list[dict]:
    return [{"method": method} for method in methods]


def test_a_run_must_call_exactly_the_declared_methods():
    declared = sorted(EXERCISED["node"]["oauth"].methods)
    assert declared == ["IamTokenService/Create", "ImageService/List"]
    full = ["yandex.cloud.iam.v1.IamTokenService/Create", "yandex.cloud.containerregistry.v1.ImageService/List"]
    assert_exercised("node", "oauth", _calls(*full, full[1]))  # a method called twice is still one method
    with pytest.raises(AssertionError, match=r"does not declare: \['ImageService/Get'\]"):
        assert_exercised("node", "oauth", _calls(*full, "yandex.cloud.containerregistry.v1.ImageService/Get"))
    with pytest.raises(AssertionError, match=r"the run did not call: \['IamTokenService/Create'\]"):
        assert_exercised("node", "oauth", _calls(full[1]))
    with pytest.raises(AssertionError, match=r"yandex\.cloud\.iam\.v1\.IamTokenService/Revoke"):
        assert_exercised("node", "oauth", _calls(*full, "yandex.cloud.iam.v1.IamTokenService/Revoke"))


def test_the_page_names_the_sdks_each_method_is_run_by():
    by = fidelity.exercised_by()
    assert by["ImageService/List"] == ["python", "go v1", "go v2", "node"]
    assert by["OperationService/Cancel"] == ["node"]
    assert "ScanPolicyService/Create" not in by
