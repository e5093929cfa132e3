"""CLI command of the review stage: synth review (page or CSV)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from synth.cli.app import app
from synth.cli.options import ConfigArg, SetOption, load
from synth.rundir import open_run

console = Console(stderr=True, soft_wrap=True)  # paths stay whole for copy-paste



@app.command("review")
def review_command(
    config: ConfigArg,
    sets: SetOption = None,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", help="Write the sample to this CSV for offline review and exit.")] = None,
    csv_in: Annotated[Path | None, typer.Option(
        "--import-csv", help="Read decisions back from a reviewed CSV and exit.")] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default review.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default review.port; 0 picks a free one).")] = None,
    reviewer: Annotated[str, typer.Option(help="Name stored with each decision.")] = "reviewer",
) -> None:
    """Serve a local page to accept or reject a seeded sample of pairs per expert.

    Decisions go to review/decisions.jsonl in the run; curation never exports a rejected pair.
    """
    from synth.review import run_review

    cfg = load(config, sets)
    run_review(cfg, open_run(cfg), log=lambda line: console.print(line, highlight=False),
               csv_out=csv_out, csv_in=csv_in, reviewer=reviewer, host=host, port=port)
