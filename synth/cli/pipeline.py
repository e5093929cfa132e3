"""`synth run`: every stage in order (thin layer over synth.pipeline)."""
from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import ConfigError
from synth.pipeline import STAGES, StageOutcome, run_pipeline

console = Console(stderr=True)


def _print_stage(outcome: StageOutcome) -> None:
    if outcome.skipped:
        console.print(f"[yellow]- {outcome.name}[/]: skipped ({outcome.skipped})")
        return
    figures = ", ".join(f"{k}={v}" for k, v in outcome.summary.items()
                        if not isinstance(v, (dict, list)) and k != "retry_hint")
    console.print(f"[green]✓ {outcome.name}[/] {outcome.seconds:.1f}s  {figures}", highlight=False)
    if outcome.summary.get("retry_hint"):  # segments every rerun skips until asked
        console.print(f"  {outcome.summary['retry_hint']}", highlight=False)
    for url, times in (outcome.summary.get("replicas_out") or {}).items():
        console.print(f"  replica {url} was taken out of rotation {times} time(s) (calls.sqlite, "
                      "status replica_out)", highlight=False)


@app.command("run")
def run_command(
    config: ConfigArg,
    sets: SetOption = None,
    until: Annotated[str, typer.Option(help=f"Last stage to run: {', '.join(STAGES)}.")] = "report",
    skip: Annotated[list[str] | None, typer.Option(help="Stage to skip (repeatable).")] = None,
    json_out: JsonOption = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Generate also retries segments whose earlier generation failed for good.")] = False,
) -> None:
    """Run every stage on CONFIG: ingest, generate, judge, curate, export, router, validate, report.

    Resumable: rerun the same command after a crash or a budget stop; cached calls are not paid twice.
    """
    for name in [until, *(skip or [])]:
        if name not in STAGES:
            raise ConfigError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    result = run_pipeline(load(config, sets), until=until, skip=tuple(skip or ()), on_stage=_print_stage,
                          retry_failed=retry_failed)
    if json_out:
        typer.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        console.print(f"run dir: {result.run_dir}")
