"""CLI command: synth compare (the run's generation sets side by side)."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import InputError
from synth.rundir import RunDir

console = Console(stderr=True)


@app.command("compare")
def compare_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Compare the run's generation sets (model swaps) on the same segments and the same judge:
    pairs, judged, accepted, accept rate, mean scores, failures, spend, cost per accepted pair,
    question diversity and length, per set and per expert. Writes reports/compare.html."""
    from synth.compare import COLUMNS, compare_json, row, run_compare

    run = RunDir(load(config, sets).run_dir)
    if not run.pairs.exists():
        raise InputError("no pairs yet: run `synth generate` first", file=str(run.pairs))
    results = run_compare(load(config, sets), run)
    if json_out:
        typer.echo(compare_json(results))
        return
    table = Table("set", "model", "expert", *(c.replace("_", " ") for c in COLUMNS), "mean scores")
    for result in results:
        table.add_row(result.id, result.model, "all", *map(str, row(result)))
        for name, metrics in result.experts.items():
            table.add_row("", "", name, *map(str, row(metrics)))
    Console().print(table)
    console.print(f"report: {run.path('reports', 'compare.html')}", highlight=False)
