"""The documentation's pages (README.md and docs/), for the tests that run their snippets as written.

A snippet the suite runs is a module-level ``DOC_*`` string in a test module, found on its page by
``assert_on_page``; tests/test_docs.py checks that every code block of every page is one of them
(or a file of the example project, included), so a block nothing runs cannot be added unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs"
GENERATED = frozenset({"fidelity.md"})  # written by tests.support.fidelity, checked against it

_FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<body>.*?)^```\n", re.DOTALL | re.MULTILINE)


def page(name: str) -> str:
    """A page's text: ``README.md``, or a page of docs/ by its path there (``pytest-plugin.md``)."""
    return (REPOSITORY / name if name == "README.md" else DOCS / name).read_text(encoding="utf-8")


def pages() -> list[str]:
    """Every page: README.md, then docs/'s in path order (the example project's files are not pages)."""
    found = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    return ["README.md", *found]


def assert_on_page(name: str, **snippets: str) -> None:
    """Each snippet (by its constant's name) is on the page as written."""
    text = page(name)
    missing = [constant for constant, snippet in snippets.items() if snippet not in text]
    assert not missing, f"not on {name} as written: {', '.join(missing)}"


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    body: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language or 'no language'}): {self.body.splitlines()[0]!r}"


def block_holding(name: str, holding: str) -> str:
    """The body of the one code block of a page that holds a line (or lines)."""
    found = [block.body for block in blocks(name) if holding in block.body]
    assert len(found) == 1, f"{name}: {len(found)} blocks hold {holding!r}"
    return found[0]


def blocks(name: str) -> list[Block]:
    """The fenced code blocks of a page."""
    text = page(name)
    return [
        Block(name, text.count("\n", 0, found.start()) + 1, found["language"], found["body"])
        for found in _FENCE.finditer(text)
    ]
