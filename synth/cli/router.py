"""CLI commands of the router: synth router (train), synth route (ask)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.rundir import open_run

console = Console(stderr=True, soft_wrap=True)  # paths stay whole for copy-paste


@app.command("router")
def router_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Train the expert router on the export's router questions; report val accuracy and macro-F1."""
    from synth.router import run_router

    cfg = load(config, sets)
    metrics = run_router(cfg, open_run(cfg))
    if json_out:
        typer.echo(metrics.model_dump_json(indent=2))
        return
    accuracy = "n/a" if metrics.accuracy is None else f"{metrics.accuracy:.3f}"
    f1 = "n/a" if metrics.macro_f1 is None else f"{metrics.macro_f1:.3f}"
    console.print(f"router ({metrics.featurizer}): {metrics.train_count} train, {metrics.val_count} "
                  f"val; val accuracy {accuracy}, macro-F1 {f1} on {metrics.val_count} val questions"
                  + (f" ({metrics.note})" if metrics.note else ""))


@app.command("route")
def route_command(
    run_dir: Annotated[Path, typer.Argument(help="A run dir with a trained router.", show_default=False)],
    question: Annotated[str, typer.Argument(help="The question to route.", show_default=False)],
    json_out: JsonOption = False,
) -> None:
    """Print the expert (LoRA adapter name) for a question and its probability."""
    from synth.router import load_router, route

    if not question.strip():
        raise typer.BadParameter("the question is empty", param_hint="QUESTION")
    result = route(load_router(run_dir), question)
    if json_out:
        typer.echo(json.dumps(vars(result)))
    else:
        typer.echo(f"{result.expert}\t{result.probability:.3f}")
