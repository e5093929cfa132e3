"""CLI command: synth compare (the run's generation sets side by side)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import InputError
from synth.rundir import RunDir

if TYPE_CHECKING:
    from synth.records import SetComparison, SetMetrics

console = Console(stderr=True)


@app.command("compare")
def compare_command(config: ConfigArg, sets: SetOption = None, json_out: JsonOption = False) -> None:
    """Compare the run's generation sets (model swaps) on the same segments and the same judge:
    pairs, judged, accepted, accept rate, mean scores, failures, spend, cost per accepted pair,
    question diversity and length, per set and per expert. Writes reports/compare.html."""
    from synth.compare import compare_json, judge_lines, row, run_compare

    run = RunDir(load(config, sets).run_dir)
    if not run.pairs.exists():
        raise InputError("no pairs yet: run `synth generate` first", file=str(run.pairs))
    results = run_compare(load(config, sets), run)
    if json_out:
        typer.echo(compare_json(results))
        return
    Console().print(_sets_table(results, row), _experts_table(results))
    for line in judge_lines(results):  # whose verdicts these are, and which sets it has not judged
        console.print(line, highlight=False)
    console.print(f"report: {run.path('reports', 'compare.html')}", highlight=False)


def _sets_table(results: list[SetComparison], row: Callable[[SetMetrics], list[object]]) -> Table:
    """One column per set, one row per metric: readable at 80 columns with a few sets."""
    from synth.compare import COLUMNS

    table = Table("", *(f"{r.id}\n{r.model}" for r in results), title="generation sets")
    cells = [[str(v) for v in row(r)] for r in results]
    for i, name in enumerate([*COLUMNS, "mean_scores"]):
        table.add_row(name.replace("_", " "), *(c[i].replace(", ", "\n") for c in cells))
    return table


def _experts_table(results: list[SetComparison]) -> Table:
    """Per expert and set: accepted / judged (accept rate)."""
    table = Table("expert", *(r.id for r in results), title="accepted / judged per expert")
    for name in sorted({e for r in results for e in r.experts}):
        table.add_row(name, *(_accepted(r.experts.get(name)) for r in results))
    return table


def _accepted(metrics: SetMetrics | None) -> str:
    if metrics is None:
        return "-"
    rate = f" ({metrics.accept_rate:.0%})" if metrics.accept_rate is not None else ""
    return f"{metrics.accepted} / {metrics.judged}{rate}"
