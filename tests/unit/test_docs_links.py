"""The README and the pages of ``docs/`` link only to what is there: every relative link
(``[text](path)``, ``[text](path#anchor)``, ``[text](#anchor)``, images and reference
definitions alike) names a file of the repository, and every anchor one that a heading of
the target page produces under GitHub's rule. The README stays the short entry it is meant
to be (issue 19: at most 250 lines) and links every page of ``docs/``.

Links inside code (fenced blocks, inline spans) and links with a scheme (``https:``,
``mailto:``) are not checked; an anchor is checked only on a Markdown target."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def _outside_fences(text: str):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as rendered (links give their text, code its
    content), lowercased, every character but letters, digits, spaces, ``-`` and ``_`` dropped,
    each space a ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page offers: its headings' (the second of two equal ones gets ``-1``,
    the third ``-2``) and explicit HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _outside_fences(text):
        found.update(_HTML_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str):
    """(line number, target) of every link outside code."""
    for number, line in _outside_fences(text):
        line = _CODE_SPAN.sub("code", line)
        targets = [m.group(1) for m in _LINK.finditer(line)]
        definition = _DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
        for target in targets:
            yield number, target.strip("<>")


def broken_links(page: Path, root: Path) -> list[str]:
    """What is wrong with the relative links of one page, one line per broken link."""
    problems = []
    for number, target in links(page.read_text()):
        if _SCHEME.match(target):
            continue
        path, _, anchor = target.partition("#")
        where = f"{page.relative_to(root)}:{number}: {target}"
        file = (page.parent / unquote(path)).resolve() if path else page
        if not file.is_relative_to(root.resolve()):
            problems.append(f"{where} (outside the repository)")
        elif not file.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and file.suffix == ".md" and unquote(anchor) not in anchors(file.read_text()):
            problems.append(f"{where} (no heading of {file.name} makes #{anchor})")
    return problems


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_every_relative_link_of_the_readme_and_docs_points_at_something_there():
    problems = [problem for page in _pages() if "node_modules" not in page.parts
                for problem in broken_links(page, REPO)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_readme_is_short_and_links_every_docs_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 250, "README.md: the reference belongs in docs/"
    linked = {(README.parent / unquote(target.partition("#")[0])).resolve()
              for _, target in links(text) if not _SCHEME.match(target)}
    unlinked = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


def test_anchors_follow_githubs_rule():
    assert slug("Benchmarks (`make bench`)") == "benchmarks-make-bench"
    assert slug("Savings: accounts, shares, loans, remittances") == (
        "savings-accounts-shares-loans-remittances")
    assert slug("`make run` and the demo") == "make-run-and-the-demo"
    assert slug("See [the guide](guide.md), v2.0 — snake_case") == "see-the-guide-v20--snake_case"
    assert anchors("# Notes\n\n## Notes\n```\n# not a heading\n```\n## Notes ##\n") == {
        "notes", "notes-1", "notes-2"}


def test_the_checker_reports_a_missing_file_and_an_unknown_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# The guide\n\n## Money between nodes\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](docs/guide.md) [ok too](docs/guide.md#money-between-nodes) [here](#title)\n"
        "[gone](docs/missing.md) ![gone too](docs/shot.png)\n"
        "[no such anchor](docs/guide.md#benchmarks-make-bench) [nor here](#decisions)\n"
        "[web](https://example.org/x.md#y) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "[defined]: docs/undefined.md\n")
    assert broken_links(page, tmp_path) == [
        "README.md:4: docs/missing.md (no such file)",
        "README.md:4: docs/shot.png (no such file)",
        "README.md:5: docs/guide.md#benchmarks-make-bench (no heading of guide.md makes "
        "#benchmarks-make-bench)",
        "README.md:5: #decisions (no heading of README.md makes #decisions)",
        "README.md:10: docs/undefined.md (no such file)",
    ]
