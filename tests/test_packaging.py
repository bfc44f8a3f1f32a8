"""What `pip install .` installs: every package of the emulator (found by a fresh clone's README
start command: a subpackage missing from pyproject.toml's list broke `ycr-emulator` when installed
without -e, while the editable installs the suite uses found it in the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.docs import assert_on_page, page

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
REPOSITORY = Path(__file__).resolve().parent.parent


def test_every_package_of_the_emulator_is_installed():
    listed = set(tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPOSITORY).parts) for init in (REPOSITORY / "emulator").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_sdk_extra_brings_the_official_sdk():
    """#24: the plugin's SDK fixtures need yandexcloud; `pip install 'ycr-emulator[sdk]'` brings it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert any(requirement.startswith("yandexcloud") for requirement in project["optional-dependencies"]["sdk"])
    assert_on_page("pytest-plugin.md", DOC_PLUGIN_INSTALL=DOC_PLUGIN_INSTALL)
    assert "pip install pytest '/path/to/ycr-emulator[sdk]'" in page("README.md")


DOC_PLUGIN_INSTALL = (
    "pip install pytest '/path/to/ycr-emulator[sdk]'   # a clone; pip install -e ... follows its changes\n"
)
