"""CLI commands of the judge stage: synth judge, synth judge-diff, synth check."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from synth.checks import check_report, read_check_items, run_checks
from synth.cli import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.config import RunConfig
from synth.errors import InputError
from synth.safety import SafetyPolicy

console = Console(stderr=True)
CHUNK = 1024


@app.command("check")
def check_command(
    pairs: Annotated[Path, typer.Argument(help="JSONL file: one object per line with 'question' and 'answer'.",
                                          show_default=False)],
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config whose "
                                                   "`checks` and `safety` sections to use.")] = None,
    sets: SetOption = None,
) -> None:
    """Run the automated checks (no LLM) on any question/answer dataset.

    Prints one JSON object per valid line with each check's score, verdict and reason; bad
    lines are reported on stderr with their line number, and the exit code is then 3.
    """
    run_config = load(config, sets) if config else RunConfig()
    policy = SafetyPolicy.from_config(run_config.safety)
    items, errors = read_check_items(pairs)
    for error in errors:
        console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        results = run_checks([(i.question, i.answer) for i in chunk], run_config.checks, policy)
        for item, checks in zip(chunk, results):
            typer.echo(json.dumps(check_report(item, checks), ensure_ascii=False))
    if errors:
        raise InputError(f"{len(errors)} bad line(s) skipped, {len(items)} checked", file=str(pairs))
