"""The run report: reports/index.html, one page per run that links every stage's report.

It links only what exists (audit, distribution analysis, judge statistics, validation,
router) and says what is missing and which command makes it. It also shows the run's record
counts, the validation verdicts per expert and the router's held-out figures.
"""
from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from synth.config import RunConfig
from synth.records import RouterMetrics, ValidationReport
from synth.rundir import RunDir, atomic_write_text, count_records

R = TypeVar("R", bound=BaseModel)

SECTIONS = (  # title, file in reports/, command that writes it
    ("Audit", "audit.html", "synth audit CONFIG"),
    ("Distribution analysis", "distribution.html", "synth curate CONFIG"),
    ("Judge statistics", "judge.html", "synth judge CONFIG"),
    ("Validation", "validation.html", "synth validate CONFIG"),
    ("Router", "router.html", "synth router CONFIG"),
)
COUNTED = (  # label, path in the run dir
    ("segments", "segments.jsonl"), ("quarantined records", "quarantine.jsonl"),
    ("pairs", "pairs.jsonl"), ("generation failures", "failures.jsonl"),
    ("judged pairs", "judged.jsonl"), ("curated train", "curated/train.jsonl"),
    ("curated val", "curated/val.jsonl"), ("excluded pairs", "curated/excluded.jsonl"),
    ("review decisions", "review/decisions.jsonl"),
)
STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}.pass{background:#dfd}.fail{background:#fdd}
.skipped{background:#eee}.missing{color:#a40}img{max-width:100%}"""


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


def links_section(reports: Path) -> str:
    items = []
    for title, name, command in SECTIONS:
        if (reports / name).exists():
            items.append(f'<li><a href="{esc(name)}">{esc(title)}</a></li>')
        else:
            items.append(f'<li class=missing>{esc(title)}: missing (run <code>{esc(command)}</code>)</li>')
    return "<h2>Reports</h2><ul>" + "".join(items) + "</ul>"


def counts_section(run: RunDir) -> str:
    rows = []
    for label, relative in COUNTED:
        count = count_records(run.path(relative))
        rows.append([esc(label), esc(count) if count is not None else "<span class=missing>missing</span>"])
    return "<h2>Records</h2>" + html_table(["what", "count"], rows)


def load_record(path: Path, model: type[R]) -> R | None:
    """A stage's JSON result; None when missing or unreadable (the page says to remake it)."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def validation_matrix(report: ValidationReport) -> str:
    """Experts as rows, checks as columns, each cell the status (detail on hover)."""
    experts = list(dict.fromkeys(c.expert for c in report.checks))
    names = list(dict.fromkeys(c.check for c in report.checks))
    cells = {(c.expert, c.check): c for c in report.checks}
    rows = []
    for expert in experts:
        row = [esc(expert)]
        for name in names:
            check = cells.get((expert, name))
            row.append(f'<span class={check.status} title="{esc(check.detail)}">{esc(check.status)}</span>'
                       if check else "")
        rows.append(row)
    return html_table(["expert", *names], rows)


def validation_section(run: RunDir) -> str:
    report = load_record(run.path("reports", "validation.json"), ValidationReport)
    if report is None:
        return "<h2>Validation</h2><p class=missing>missing (run <code>synth validate CONFIG</code>)</p>"
    verdict = "passed" if report.passed else f"FAILED ({len(report.failed)} check(s))"
    return f"<h2>Validation: {esc(verdict)}</h2>" + validation_matrix(report)


def router_section(run: RunDir) -> str:
    metrics = load_record(run.path("router", "metrics.json"), RouterMetrics)
    if metrics is None:
        return "<h2>Router</h2><p class=missing>missing (run <code>synth router CONFIG</code>)</p>"
    figure = "n/a (no val questions)" if metrics.accuracy is None else f"{metrics.accuracy:.3f}"
    f1 = "n/a" if metrics.macro_f1 is None else f"{metrics.macro_f1:.3f}"
    rows = [[esc("featurizer"), esc(metrics.featurizer)], [esc("train / val"),
            esc(f"{metrics.train_count} / {metrics.val_count}")],
            [esc("val accuracy"), esc(figure)], [esc("val macro-F1"), esc(f1)]]
    return "<h2>Router</h2>" + html_table(["figure", "value"], rows)


def write_run_report(config: RunConfig, run: RunDir) -> Path:
    """Write reports/index.html for the run; returns its path."""
    reports = run.reports
    manifest = run.path("export", "manifest.json")
    export = ('<p>Export manifest: <a href="../export/manifest.json">export/manifest.json</a></p>'
              if manifest.exists() else "<p class=missing>Export: missing (run <code>synth export CONFIG</code>)</p>")
    intro = (f"<p>Run dir <code>{esc(run.root)}</code>, base model <b>{esc(config.export.base_model)}</b>, "
             f"max_seq_len {esc(config.export.max_seq_len)}.</p>")
    body = "\n".join([intro, links_section(reports), counts_section(run), export,
                      validation_section(run), router_section(run)])
    return atomic_write_text(reports / "index.html", html_page("synth run report", body))
