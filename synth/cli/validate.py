"""CLI command of the validate stage: synth validate."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import ValidationFailed
from synth.rundir import open_run

console = Console(stderr=True, soft_wrap=True)  # paths stay whole for copy-paste
STATUS_STYLE = {"pass": "green", "fail": "bold red", "skipped": "yellow"}


@app.command("validate")
def validate_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Load each expert's export into TRL+PEFT and LitGPT, run one LoRA step, check the voice.

    Writes reports/validation.json and .html; exits 7 when a check fails.
    """
    from synth.validate import run_validate

    cfg = load(config, sets)
    report = run_validate(cfg, open_run(cfg), log=lambda message: console.print(f"[dim]{message}[/]"))
    if json_out:
        typer.echo(report.model_dump_json(indent=2))
    else:
        table = Table("expert", "check", "status", "detail")
        for check in report.checks:
            table.add_row(check.expert, check.check,
                          f"[{STATUS_STYLE[check.status]}]{check.status}[/]", check.detail)
        console.print(table)
    if not report.passed:
        raise ValidationFailed(f"{len(report.failed)} validation check(s) failed; "
                               f"see {Path(report.run_dir) / 'reports' / 'validation.html'}")
