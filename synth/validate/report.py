"""reports/validation.html: pass/fail per expert per check, with each check's detail."""
from __future__ import annotations

from pathlib import Path

from synth.files import atomic_write_text
from synth.records import ValidationReport
from synth.reports.html import esc, html_page, html_table


def _figures(figures: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in figures.items())


def write_validation_html(path: Path, report: ValidationReport) -> Path:
    verdict = "all checks passed" if report.passed else f"{len(report.failed)} check(s) FAILED"
    intro = (f"<p>{esc(verdict)}. Base model <b>{esc(report.base_model)}</b>, tokenizer "
             f"<code>{esc(report.tokenizer)}</code>, {esc(report.created_at)}.</p>")
    details = html_table(["expert", "check", "status", "detail", "figures"], [
        [esc(c.expert), esc(c.check), f"<span class={c.status}>{esc(c.status)}</span>",
         esc(c.detail), esc(_figures(c.figures))] for c in report.checks])
    body = intro + validation_matrix(report) + "<h2>Details</h2>" + details
    return atomic_write_text(path, html_page("Validation", body))


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
