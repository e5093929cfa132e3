"""CLI commands for validation, the router, review and the run report (on synth.cli.app)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from synth.cli import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import InputError, SynthError, ValidationFailed
from synth.rundir import open_run

if TYPE_CHECKING:
    from synth.review import ReviewSession

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
                  f"val; val accuracy {accuracy}, macro-F1 {f1}")


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


@app.command("review")
def review_command(
    config: ConfigArg,
    sets: SetOption = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the sample to this CSV for offline review and exit.")] = None,
    csv_in: Annotated[Path | None, typer.Option("--import-csv", help="Read decisions back from a reviewed CSV and exit.")] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default review.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default review.port; 0 picks a free one).")] = None,
    reviewer: Annotated[str, typer.Option(help="Name stored with each decision.")] = "reviewer",
) -> None:
    """Serve a local page to accept or reject a seeded sample of pairs per expert.

    Decisions go to review/decisions.jsonl in the run; curation never exports a rejected pair.
    """
    from synth.review import open_review

    cfg = load(config, sets)
    session = open_review(cfg, open_run(cfg))
    if csv_out or csv_in:
        _review_csv(session, csv_out, csv_in, reviewer)
        return
    _serve(session, host or cfg.review.host, cfg.review.port if port is None else port, reviewer)


def _review_csv(session: ReviewSession, csv_out: Path | None, csv_in: Path | None, reviewer: str) -> None:
    from synth.review_csv import import_csv, write_csv

    if csv_out:
        console.print(f"wrote {len(session.items)} pairs to {write_csv(session, csv_out)}")
    if csv_in:
        result = import_csv(session, csv_in, reviewer)
        console.print(f"saved {result.saved} decision(s); {result.blank} row(s) undecided")
        for error in result.errors:
            console.print(f"[red]{error}[/]", highlight=False, soft_wrap=True)
        if result.errors:
            raise InputError(f"{len(result.errors)} row(s) not imported", file=str(csv_in))


def _serve(session: ReviewSession, host: str, port: int, reviewer: str) -> None:
    from synth.review_server import make_server

    try:
        server = make_server(session, host, port, reviewer)
    except OSError as exc:
        raise SynthError(f"cannot serve the review page on {host}:{port}: {exc}") from None
    bound_host, bound_port = server.server_address[:2]
    console.print(f"review {len(session.items)} pairs at http://{bound_host}:{bound_port}/ "
                  "(Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print(f"stopped; decisions are in {session.store.path}")
    finally:
        server.server_close()


@app.command("report")
def report_command(config: ConfigArg, sets: SetOption = None) -> None:
    """Write reports/index.html: links to audit, distribution, judge, validation and router pages."""
    from synth.report import write_run_report

    cfg = load(config, sets)
    console.print(f"run report: {write_run_report(cfg, open_run(cfg))}")
