"""CLI command for the run report: synth report."""
from __future__ import annotations

from rich.console import Console

from synth.cli.app import app
from synth.cli.options import ConfigArg, SetOption, load
from synth.rundir import open_run

console = Console(stderr=True, soft_wrap=True)  # paths stay whole for copy-paste


@app.command("report")
def report_command(config: ConfigArg, sets: SetOption = None) -> None:
    """Write reports/index.html: links to audit, distribution, judge, validation and router pages."""
    from synth.reports.run import write_run_report

    cfg = load(config, sets)
    console.print(f"run report: {write_run_report(cfg, open_run(cfg))}")
