"""CLI command of the export stage: synth export."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.rundir import open_run

console = Console(stderr=True)


@app.command("export")
def export_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Export curated pairs per expert: TRL, LitGPT, messages, packed parquet, router dataset,
    training configs, cards, manifest and the vLLM serving command (export/ in the run dir)."""
    from synth.curate import load_curated
    from synth.export import run_export

    run_config = load(config, sets)
    run = open_run(run_config)
    curated = load_curated(run)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("tokenizing", total=len(curated))
        manifest = run_export(
            run_config,
            run,
            curated,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if json_out:
        typer.echo(manifest.model_dump_json(indent=2))
        return
    table = Table("expert", "train", "val", "tokens", "packed rows", "utilisation")
    for name, counts in manifest.experts.items():
        figures = manifest.token_stats.get(name, {})
        table.add_row(
            name,
            str(counts["train"]),
            str(counts["val"]),
            str(counts["tokens"]),
            str(counts["packed_rows_train"]),
            f"{figures.get('utilisation_train', 0):.3f}",
        )
    console.print(table)
    for warning in manifest.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"export: {run.path('export')}  serve: {run.path('export', 'serve.sh')}")
