"""The run report: reports/index.html, one page per run that links every stage's report.

It links only what exists (audit, distribution analysis, judge statistics, validation,
router) and says what is missing and which command makes it. It also shows the run's record
counts, the validation verdicts per expert and the router's held-out figures.
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from synth.config import RunConfig
from synth.files import atomic_write_text, count_records
from synth.records import RouterMetrics, ValidationReport
from synth.reports.html import esc, html_page, html_table
from synth.rundir import RunDir

R = TypeVar("R", bound=BaseModel)

SECTIONS = (  # title, file in reports/, command that writes it
    ("Audit", "audit.html", "synth audit CONFIG"),
    ("Distribution analysis", "distribution.html", "synth curate CONFIG"),
    ("Judge statistics", "judge.html", "synth judge CONFIG"),
    ("Generator comparison", "compare.html", "synth compare CONFIG"),
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
ONE_SET = ("one generation set in this run: nothing to compare (a second generator's set, e.g. "
           "after a model swap, adds the comparison)")


def links_section(reports: Path, sets: int = 2) -> str:
    """A link per report that exists; a missing one says which command makes it, except the
    comparison of a run with fewer than two generation sets, which has nothing to compare."""
    items = []
    for title, name, command in SECTIONS:
        if (reports / name).exists():
            items.append(f'<li><a href="{esc(name)}">{esc(title)}</a></li>')
        elif name == "compare.html" and sets < 2:
            items.append(f"<li>{esc(title)}: {esc(ONE_SET)}</li>")
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


def validation_section(run: RunDir) -> str:
    report = load_record(run.report("validation.json"), ValidationReport)
    if report is None:
        return "<h2>Validation</h2><p class=missing>missing (run <code>synth validate CONFIG</code>)</p>"
    verdict = "passed" if report.passed else f"FAILED ({len(report.failed)} check(s))"
    # imported here: synth.validate.report imports synth.reports.html, whose package imports this
    from synth.validate.report import validation_matrix

    return f"<h2>Validation: {esc(verdict)}</h2>" + validation_matrix(report)


def router_section(run: RunDir) -> str:
    metrics = load_record(run.router_metrics, RouterMetrics)
    if metrics is None:
        return "<h2>Router</h2><p class=missing>missing (run <code>synth router CONFIG</code>)</p>"
    figure = "n/a (no val questions)" if metrics.accuracy is None else f"{metrics.accuracy:.3f}"
    f1 = "n/a" if metrics.macro_f1 is None else f"{metrics.macro_f1:.3f}"
    rows = [[esc("featurizer"), esc(metrics.featurizer)], [esc("train / val"),
            esc(f"{metrics.train_count} / {metrics.val_count}")],
            [esc("val accuracy"), esc(figure)], [esc("val macro-F1"), esc(f1)]]
    if metrics.note:
        rows.append([esc("held-out figures"), f"<span class=missing>{esc(metrics.note)}</span>"])
    return "<h2>Router</h2>" + html_table(["figure", "value"], rows)


def write_run_report(config: RunConfig, run: RunDir) -> Path:
    """Write reports/index.html for the run; returns its path."""
    reports = run.reports
    manifest = run.manifest
    export = ('<p>Export manifest: <a href="../export/manifest.json">export/manifest.json</a></p>'
              if manifest.exists() else "<p class=missing>Export: missing (run <code>synth export CONFIG</code>)</p>")
    intro = (f"<p>Run dir <code>{esc(run.root)}</code>, base model <b>{esc(config.export.base_model)}</b>, "
             f"max_seq_len {esc(config.export.max_seq_len)}.</p>")
    from synth.generate.sets import load_sets  # the run's generation sets (generations.jsonl)

    body = "\n".join([intro, links_section(reports, len(load_sets(run))), counts_section(run), export,
                      validation_section(run), router_section(run)])
    return atomic_write_text(reports / "index.html", html_page("synth run report", body))
