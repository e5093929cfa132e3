"""CLI commands of the judge stage: synth judge, synth judge-diff, synth check."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.config import RunConfig
from synth.errors import InputError
from synth.files import read_jsonl
from synth.records import Pair
from synth.rundir import RunDir, open_run

if TYPE_CHECKING:
    from synth.judge import JudgeDiff

console = Console(stderr=True)


@app.command("check")
def check_command(
    pairs: Annotated[Path, typer.Argument(help="JSONL file: one object per line with 'question' and 'answer'.",
                                          show_default=False)],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Run config whose "
                                                   "`checks` and `safety` sections to use.")] = None,
    sets: SetOption = None,
) -> None:
    """Run the automated checks (no LLM) on any question/answer dataset.

    Prints one JSON object per valid line with each check's score, verdict and reason; bad
    lines are reported on stderr with their line number, and the exit code is then 3. A
    check marked "advisory" (lexical_overlap, question_length) is a score only: the line's
    "passed" is every other check passing.
    """
    from synth.judge import SafetyPolicy, check_report, config_plan, read_check_items, run_checks
    from synth.text.ray_map import on_cluster

    run_config = load(config, sets) if config else RunConfig()
    policy = SafetyPolicy.from_config(run_config.safety)
    items, errors = read_check_items(pairs)
    for error in errors:
        console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    # one call: every distinct text encoded once, alignment scored against the whole file
    with on_cluster(run_config.engine):  # engine.kind ray: the encoding runs on the cluster
        results = run_checks([(i.question, i.answer) for i in items], run_config.checks, policy, progress=True,
                             plan=config_plan(run_config))
    for item, checks in zip(items, results):
        typer.echo(json.dumps(check_report(item, checks), ensure_ascii=False))
    if errors:
        raise InputError(f"{len(errors)} bad line(s) skipped, {len(items)} checked", file=str(pairs))


RubricOption = Annotated[Path | None, typer.Option("--rubric", "-r", help="Rubric YAML to judge "
                                                      "with (default: judge.rubric of the config).")]


def _pairs(run: RunDir) -> list[Pair]:
    if not run.pairs.exists():
        raise InputError("no pairs yet: run `synth generate` (or `synth run`) first", file=str(run.pairs))
    return list(read_jsonl(run.pairs, Pair))


@app.command("judge")
def judge_command(config: ConfigArg, rubric: RubricOption = None, sets: SetOption = None,
                  json_out: JsonOption = False) -> None:
    """Judge the run's pairs: automated checks, the judge model, the accept rule, revisions.

    Only pairs without a judgment for the current rubric hash and judge model are sent to the
    judge; a rerun with nothing stale makes no call. Writes judged.jsonl in the run dir.
    """
    from synth.judge import run_judge

    overrides = [*(sets or []), *([f"judge.rubric={rubric}"] if rubric else [])]
    run_config = load(config, overrides)
    run = open_run(run_config)
    result = run_judge(run_config, run, _pairs(run))
    summary = result.summary()
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(f"judged {summary['pairs']} pairs with {summary['judge_model']} (rubric "
                  f"{summary['rubric_hash']}): {summary['judge_requests']} judge request(s), "
                  f"{summary['calls']} judge call(s) and {summary['revise_calls']} revise call(s) to "
                  f"the generator sent, {summary['cached']} cached, {summary['failed']} failed, "
                  f"{summary['revised']} revised, ${summary['spend_usd']:.4f}", highlight=False)
    console.print(f"accepted {summary['accepted']}, rejected {summary['rejected']} -> "
                  f"{run.path('judged.jsonl')}", highlight=False)
    for url, times in summary["replicas_out"].items():
        console.print(f"replica {url} was taken out of rotation {times} time(s) (see calls.sqlite, "
                      "status replica_out)", highlight=False)
    for reason, count in summary["reasons"].items():
        console.print(f"  {count:5d}  {reason}", highlight=False)


@app.command("judge-diff")
def judge_diff_command(
    config: ConfigArg,
    old_rubric: Annotated[Path, typer.Argument(help="The old rubric YAML.", show_default=False)],
    new_rubric: Annotated[Path, typer.Argument(help="The new rubric YAML.", show_default=False)],
    sets: SetOption = None, json_out: JsonOption = False,
) -> None:
    """Accept/reject flips between two rubrics, per expert, from stored judgments (no judge call).

    Judge with both rubrics first (`synth judge CONFIG --rubric FILE`); rubrics that differ
    only in thresholds share their judgments.
    """
    from synth.judge import judge_diff

    run_config = load(config, sets)
    run = RunDir(run_config.run_dir)
    diff = judge_diff(run_config, run, _pairs(run), old_rubric, new_rubric)
    if json_out:
        typer.echo(diff.model_dump_json(indent=2))
        return
    _print_diff(diff)


def _print_diff(diff: JudgeDiff) -> None:
    table = Table(title=f"{diff.old.id} v{diff.old.version} -> {diff.new.id} v{diff.new.version} "
                        f"({'same judgments' if diff.same_judgments else 'different judgments'})")
    columns = ("pairs", "accept_to_reject", "reject_to_accept", "still_accepted", "still_rejected",
               "not_judged")
    table.add_column("expert", no_wrap=True, min_width=12)
    for name in columns:
        table.add_column(name.replace("_", " "), justify="right")
    for expert, counts in sorted(diff.experts.items()):
        table.add_row(expert, *(str(getattr(counts, c)) for c in columns))
    total = diff.totals()
    table.add_row("all", *(str(getattr(total, c)) for c in columns))
    Console().print(table)
    for flip in diff.flips:
        change = "accept -> reject" if flip.old_accepted else "reject -> accept"
        why = ", ".join(flip.new_reasons if flip.old_accepted else flip.old_reasons)
        typer.echo(f"{flip.pair_id}  {flip.expert:12s} {change}  ({why})")
