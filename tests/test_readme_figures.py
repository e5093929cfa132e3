"""Every measured figure in the README names the script that prints it (README "Benchmarks").

The rule: a passage (paragraph or list) or table row that carries a measured figure, in a
measured section (the checks, the benchmarks) or anywhere it says "measured", names a
`bench/*.py` or `tests/*.py` file in the same passage or row; a table is also covered by its
header row or by the passage directly above it. Every script the README names exists.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURED_SECTIONS = ("The automated checks", "Benchmarks")
# what a measurement looks like: a share, a count out of a total, a time, a size, a rate, a
# score named by its metric, a speed-up
FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s?%"
    r"|\b\d[\d,]*\s?/\s?\d[\d,]*\b(?![./])"
    r"|\b\d+(?:\.\d+)?\s?(?:ms|s|MB|MiB|GB|GiB|req/s|pairs/s|tokens/s|texts/s)\b"
    r"|\b(?:AUC|cosine|F1|z)\s+-?\d+\.\d+"
    r"|\b\d+(?:\.\d+)?\s?[x×]\b(?!\s*\d)")
SCRIPT = re.compile(r"\b(?:bench|tests)/[\w/.-]+?\.py\b|(?<![\w/])\w+\.py\b")
_RULE = re.compile(r"^\|[\s|:-]+\|$")


@dataclass
class Block:
    line: int
    section: str
    text: str
    covers: str = ""  # a table's header row and the passage above it


def blocks(markdown: str) -> Iterator[Block]:
    """Passages and table rows outside code fences, with their section heading."""
    section, fence, passage, start = "", False, [], 0
    header, above, in_table, last_passage = "", "", False, ""
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        is_row = line.startswith("|")
        if passage and (is_row or not line.strip() or line.startswith("#")):
            last_passage = " ".join(passage)
            yield Block(start, section, last_passage)
            passage = []
        if line.startswith("#"):
            section, last_passage = line.strip("# "), ""
        elif is_row:
            if not in_table:
                header, above, in_table = line, last_passage, True
            if not _RULE.match(line):
                yield Block(number, section, line, covers=f"{header} {above}")
            continue
        elif line.strip():
            if not passage:
                start = number
            passage.append(line)
        in_table = False
    if passage:
        yield Block(start, section, " ".join(passage))


def in_scope(block: Block) -> bool:
    return block.section.startswith(MEASURED_SECTIONS) or "measured" in block.text.lower()


def named_scripts(text: str) -> list[str]:
    return SCRIPT.findall(text)


def script_exists(name: str) -> bool:
    if "/" in name:
        return (ROOT / name).is_file()
    return (ROOT / "bench" / name).is_file() or any((ROOT / "tests").rglob(name))


def unscripted(markdown: str) -> list[str]:
    """Measured blocks that carry a figure and name no script."""
    return [f"README.md:{b.line}: {FIGURE.findall(b.text)[:4]} in {b.text[:80]!r}"
            for b in blocks(markdown)
            if in_scope(b) and FIGURE.search(b.text)
            and not any(script_exists(s) for s in named_scripts(f"{b.text} {b.covers}"))]


def missing_scripts(markdown: str) -> list[str]:
    """Scripts the README names (bench/…, tests/…, or a bare bench script name) that do not exist."""
    names = set(re.findall(r"\b(?:bench|tests)/[\w/.-]+?\.py\b", markdown))
    names |= {n for n in re.findall(r"(?<![\w/])(bench_\w+\.py)\b", markdown)}
    return sorted(n for n in names if not script_exists(n))


def test_every_measured_figure_names_its_script() -> None:
    assert unscripted((ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_every_script_the_readme_names_exists() -> None:
    assert missing_scripts((ROOT / "README.md").read_text(encoding="utf-8")) == []


SAMPLE = """# x

## Benchmarks

Intro naming `bench/bench_checks.py`:

| stack | wall |
|---|---|
| every check | 80.3 s |

A figure on its own: 99/104 recognised.

| thing | figure |
|---|---|
| `bench_pack.py`: packing | 0.996 |
| an orphan row | 12.5% |

## Training

Config values like 0.35 and 25 words are not measurements. Measured: 89 s per step.

See `bench/no_such_bench.py` and `tests/test_layout.py`.
"""


def test_the_rule_catches_what_it_should_and_nothing_else() -> None:
    found = unscripted(SAMPLE)
    assert [f.split(":")[1] for f in found] == ["11", "16", "20"], found
    assert missing_scripts(SAMPLE) == ["bench/no_such_bench.py"]
