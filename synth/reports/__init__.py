"""Report pages: the one HTML toolkit (reports.html), plots (reports.plots) and the run report
(reports.run, reports/index.html linking every stage's page)."""
from synth.reports.run import write_run_report

__all__ = ["write_run_report"]
