"""CLI commands of the generate stage: synth generate, synth status."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.config import BudgetConfig, RunConfig
from synth.errors import BudgetExceeded, InputError
from synth.files import read_jsonl
from synth.records import Segment
from synth.rundir import RunDir, open_run

if TYPE_CHECKING:
    from synth.generate import GenerateSummary

console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def load_segments(config: RunConfig, run: RunDir) -> list[Segment]:
    """The run's segments; runs ingest first when segments.jsonl does not exist yet."""
    if run.segments.exists():
        return list(read_jsonl(run.segments, Segment))
    from synth.ingest import run_ingest

    console.print(f"no {run.segments}: running ingest first")
    return run_ingest(config, run).segments


def _print_summary(summary: GenerateSummary, json_out: bool, budget: BudgetConfig) -> None:
    from synth.generate import caps

    if json_out:
        typer.echo(summary.model_dump_json(indent=2))
        return
    others = f"; {summary.other_generations} other set(s) in the run dir left as they are" \
        if summary.other_generations else ""
    out.print(f"generation set {summary.generation} ({summary.model}"
              f"{', new' if summary.new_generation else ''}): {summary.already_done} of its "
              f"segment(s) already done{others}")
    if summary.dry_run and summary.estimate is not None:
        e = summary.estimate
        usd = (lambda v: "$?") if e.price_source == "unknown" else (lambda v: f"${v:.4f}")
        out.print(f"dry run: {e.segments} segment(s) to generate, {e.cached} cached, "
                  f"{e.prompt_tokens} prompt tokens; cost about {usd(e.typical_usd)} / "
                  f"{e.typical_tokens:,} tokens, worst case {usd(e.worst_case_usd)} / "
                  f"{e.worst_case_tokens:,} tokens (prices: {e.price_source}); budget caps: "
                  f"{caps(budget)}; nothing was sent")
        return
    failures = ", ".join(f"{k}={v}" for k, v in sorted(summary.failures.items())) or "none"
    out.print(f"generate: {summary.segments_ok} segment(s) -> {summary.pairs_written} pair(s); "
              f"{summary.failed} failed ({failures}); {summary.calls} call(s), {summary.cached} "
              f"cached; spend ${summary.spend_usd:.4f} (run total ${summary.run_spend_usd:.4f}, "
              f"{summary.run_tokens:,} tokens settled{open_reserved(summary)})")
    if summary.retry_hint:
        out.print(summary.retry_hint)
    for url, times in summary.replicas_out.items():
        out.print(f"replica {url} was taken out of rotation {times} time(s) (see calls.sqlite, "
                  "status replica_out)")


def open_reserved(summary: GenerateSummary) -> str:
    """The ledger's open reservations (calls killed mid-flight), apart from the settled total."""
    if not summary.run_open_tokens and not summary.run_open_usd:
        return ""
    return (f"; {summary.run_open_tokens:,} tokens / ${summary.run_open_usd:.4f} in open "
            "reservations")


@app.command("generate")
def generate_command(
    config: ConfigArg,
    sets: SetOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Estimate the cost; send nothing.")] = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Also retry segments whose earlier generation failed for good.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the progress bar.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Write K questions per usable segment with the generator model (resumable, cached, budgeted).

    Runs ingest first when segments.jsonl is missing. Budget cap reached: exit code 5.
    """
    from synth.generate import GenerateSummary, run_generate

    cfg = load(config, sets)
    run = open_run(cfg)
    segments = load_segments(cfg, run)
    try:
        summary = run_generate(cfg, run, segments, dry_run=dry_run, retry_failed=retry_failed,
                               progress=not no_progress)
    except BudgetExceeded as exc:
        partial = getattr(exc, "summary", None)
        if isinstance(partial, GenerateSummary):
            _print_summary(partial, json_out, cfg.budget)
        raise
    _print_summary(summary, json_out, cfg.budget)


@app.command("status")
def status_command(
    target: Annotated[Path, typer.Argument(help="Run config YAML or run directory.", show_default=False)],
    sets: SetOption = None,
    json_out: JsonOption = False,
) -> None:
    """Where a run stands: segments, pairs, failures, spend and LLM calls."""
    from synth.status import run_status

    run = RunDir(target) if target.is_dir() else RunDir(load(target, sets).run_dir)
    status = run_status(run)
    if json_out:
        typer.echo(json.dumps(status, indent=2))
    else:
        for key, value in status.items():
            out.print(f"{key:>20}: {value}")
    for name, reason in status.get("unreadable_stores", {}).items():  # shown as None above, never 0
        raise InputError(reason, file=str(run.path(name)))
