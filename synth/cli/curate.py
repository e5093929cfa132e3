"""CLI command of the curate stage: synth curate."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import InputError
from synth.files import read_jsonl
from synth.records import JudgedPair
from synth.rundir import open_run

console = Console(stderr=True)


@app.command("curate")
def curate_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Curate judged pairs into train/val per expert: accept rule, dedup, quotas, grouped split.

    Reads judged.jsonl (and review/decisions.jsonl) from the run dir; writes curated/ and
    reports/distribution.html. Every excluded pair is in curated/excluded.jsonl with its reason.
    """
    from synth.curate import run_curate

    run_config = load(config, sets)
    run = open_run(run_config)
    judged_path = run.judged
    if not judged_path.exists():
        raise InputError("file not found (run `synth judge` first)", file=str(judged_path))
    with console.status("curating"):
        result = run_curate(run_config, run, list(read_jsonl(judged_path, JudgedPair)))
    if json_out:
        typer.echo(json.dumps(result.report, indent=2, default=str))
        return
    table = Table("expert", "input", "train", "val", "excluded", "shortfall")
    for name, row in result.report["by_expert"].items():
        table.add_row(
            name, *(str(row.get(k, "")) for k in ("input", "train", "val", "excluded", "shortfall"))
        )
    console.print(table)
    for warning in result.report["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(
        f"curated: {run.path('curated')}  report: {run.path('reports', 'distribution.html')}"
    )
