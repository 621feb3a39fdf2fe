"""Every relative link and every file path named in the README and docs/*.md resolves.

A link is `[text](target)` or `![alt](target)` outside code blocks; a `#fragment` must name a
heading of the target file, by GitHub's rule for heading anchors. A path is a backticked
word such as `bench/fleet.py` or `docs/api.md` that starts with a folder of the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_FOLDERS = ("bench/", "deploy/", "docs/", "scripts/", "src/", "tests/", ".ci/", ".github/")
PATH_WORD = re.compile(r"[\w./+-]+")


def _prose(text: str) -> str:
    """The text without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _anchors(markdown: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(markdown.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _broken_links(document: Path) -> list[str]:
    """The link targets of the document that lead nowhere."""
    broken = []
    for target in LINK.findall(_prose(document.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists() or (
            fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved)
        ):
            broken.append(target)
    return broken


def _missing_paths(document: Path, root: Path = ROOT) -> list[str]:
    """The repository paths named in the document's code spans that do not exist."""
    missing = []
    for span in CODE_SPAN.findall(_prose(document.read_text(encoding="utf-8"))):
        named = span.startswith(REPO_FOLDERS) and PATH_WORD.fullmatch(span)
        if named and not (root / span).exists():
            missing.append(span)
    return missing


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_readme_and_docs_links_resolve(document: Path) -> None:
    assert _broken_links(document) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_readme_and_docs_name_existing_files(document: Path) -> None:
    assert _missing_paths(document) == []


def test_a_broken_link_and_a_missing_file_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# It's here: `yes`\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[ok](#title) [gone](missing.md) [no heading](#nowhere)\n"
        "[ok](docs/there.md#its-here-yes) ![img](docs/there.md) [web](https://example.com)\n"
        "`docs/there.md` `docs/no-such-page.md` `docs/*.md`\n\n"
        "```\n[in code](ignored.md) `docs/ignored.md`\n```\n",
        encoding="utf-8",
    )
    assert _broken_links(page) == ["missing.md", "#nowhere"]
    assert _missing_paths(page, root=tmp_path) == ["docs/no-such-page.md"]
