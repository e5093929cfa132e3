"""reports/validation.html: pass/fail per expert per check, with each check's detail."""
from __future__ import annotations

from pathlib import Path

from synth.records import ValidationReport
from synth.report import esc, html_page, html_table, validation_matrix
from synth.rundir import atomic_write_text


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
