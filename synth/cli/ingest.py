"""CLI commands of the ingest stage: synth audit (any files) and synth ingest (a run config)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import synth
from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import ConfigError, InputError
from synth.experts import load_experts
from synth.rundir import open_run

console = Console(stderr=True)
DEFAULT_EXPERTS = "configs/experts.yaml"

if TYPE_CHECKING:
    from synth.ingest import IngestResult


def parse_maps(maps: list[str] | None) -> dict[str, str]:
    """--map role=dotted.path (repeatable) -> {role: path}."""
    result: dict[str, str] = {}
    for item in maps or []:
        role, sep, path = item.partition("=")
        if not sep or not role.strip() or not path.strip():
            raise ConfigError(f"--map {item!r} is not of the form role=dotted.path", key="--map")
        result[role.strip()] = path.strip()
    return result


def experts_path(option: Path | None) -> Path:
    """--experts, else configs/experts.yaml here, else the one shipped beside the package."""
    if option is not None:
        return option
    here = Path(DEFAULT_EXPERTS)
    shipped = Path(synth.__file__).resolve().parent.parent / DEFAULT_EXPERTS
    return here if here.exists() or not shipped.exists() else shipped


def _print_problems(result: IngestResult) -> None:
    from synth.ingest import iter_problem_lines

    for line in iter_problem_lines(result):
        console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)


def _print_summary(summary: dict[str, Any], report_dir: Path) -> None:
    table = Table(title="ingest", show_header=False)
    for key in ("files", "records", "usable", "quarantined_total"):
        table.add_row(key, str(summary[key]))
    table.add_row("by style", ", ".join(f"{k} {v}" for k, v in summary["by_style"].items()))
    table.add_row("quarantined", ", ".join(f"{k} {v}" for k, v in summary["quarantined"].items()) or "none")
    table.add_row("flags", ", ".join(f"{k} {v}" for k, v in summary["flags"].items() if v) or "none")
    Console().print(table)
    Console().print(f"report: {report_dir / 'audit.html'}", highlight=False)


def _finish(result: IngestResult, summary: dict[str, Any], as_json: bool, report_dir: Path) -> None:
    _print_problems(result)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary, report_dir)
    if result.errors:
        files = {f.path for f in result.files if f.errors}
        raise InputError(f"{len(result.errors)} problem(s) reading input; {result.records} records "
                         "read and accounted for", file=", ".join(sorted(files)) or "inputs")


@app.command("audit")
def audit_command(
    paths: Annotated[list[str], typer.Argument(help="Export files, directories (searched for .json/"
                                               ".jsonl) or globs.", show_default=False)],
    maps: Annotated[list[str] | None, typer.Option(
        "--map", "-m", help="Field for a role: role=dotted.path, e.g. text=transcript, "
        "style=labels.style, records=data.items (repeatable).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for audit.md/html/json and PNGs.")
                   ] = Path("runs/audit"),
    as_json: JsonOption = False,
    experts_file: Annotated[Path | None, typer.Option(
        "--experts", help="Experts YAML (labels -> experts). Default: configs/experts.yaml.")] = None,
    tokenizer: Annotated[Path | None, typer.Option(
        "--tokenizer", help="Local tokenizer dir: adds token-length histograms.")] = None,
) -> None:
    """Audit segment exports: schema, styles, confidence, quality flags, quarantine reasons.

    Reads only the given paths and writes only the report directory.

    Exit codes: 0 all input read; 3 some input could not be read (one line each on stderr;
    everything else is still audited); 2 bad option or experts file.
    """
    from synth.ingest import ingest_paths, write_audit

    experts = load_experts(experts_path(experts_file))
    result = ingest_paths(paths, experts, parse_maps(maps), progress=not as_json)

    summary = write_audit(result, out, experts=experts, tokenizer=tokenizer)
    _finish(result, summary, as_json, out)


@app.command("ingest")
def ingest_command(config: ConfigArg, sets: SetOption = None, as_json: JsonOption = False) -> None:
    """Ingest a run config's inputs into its run dir: segments.jsonl, quarantine.jsonl, reports/audit.*

    Exit codes: 0 all input read; 3 some input could not be read (one line each on stderr; the
    rest is ingested) or no usable segment; 2 bad config.
    """
    from synth.ingest import run_ingest

    run_config = load(config, sets)
    run = open_run(run_config)
    result = run_ingest(run_config, run, progress=not as_json)
    experts = load_experts(run_config.resolve(run_config.experts))
    _finish(result, result.summary(experts.names), as_json, run.reports)
