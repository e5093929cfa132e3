"""The one HTML toolkit of every report page: a page with the shared style, escaped tables, and a
tiny document model (sections of text, tables and images) rendered to HTML or Markdown."""
from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}.pass{background:#dfd}.fail{background:#fdd}
.skipped{background:#eee}.missing{color:#a40}img{max-width:100%}th{background:#f2f2f2}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
.wide{overflow-x:auto;max-width:100%}"""


def esc(value: object) -> str:
    return html.escape(str(value))


def html_page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>\n{body}\n</body></html>\n")


def html_table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table; cells are HTML already (escape text with esc())."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[object]]


@dataclass
class Image:
    file: str  # relative to the report
    caption: str


Block = str | Table | Image


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_block(block: Block) -> str:
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_md_cell(h) for h in block.headers) + " |",
                 "|" + "---|" * len(block.headers)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, Image):
        return f"![{block.caption}]({block.file})"
    return block


def to_markdown(title: str, sections: list[Section]) -> str:
    parts = [f"# {title}"]
    for section in sections:
        parts.append(f"{'#' * section.level} {section.title}")
        parts.extend(_md_block(b) for b in section.blocks)
    return "\n\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in block.headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                       for row in block.rows)
        return f"<div class=wide><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    if isinstance(block, Image):
        return (f'<figure><img src="{html.escape(block.file)}" alt="{html.escape(block.caption)}">'
                f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    return f"<p>{html.escape(block)}</p>"


def to_html(title: str, sections: list[Section]) -> str:
    body = []
    for section in sections:
        level = min(max(section.level, 2), 4)
        body.append(f"<h{level}>{esc(section.title)}</h{level}>")
        body.extend(_html_block(b) for b in section.blocks)
    return html_page(title, "\n".join(body))
