"""CLI commands of the curate and export stages: synth curate, synth export."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from synth.cli import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import InputError
from synth.records import JudgedPair
from synth.rundir import open_run, read_jsonl

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
    judged_path = run.path("judged.jsonl")
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
