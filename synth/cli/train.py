"""CLI command of the train stage: synth train."""
from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from synth.cli.app import app
from synth.cli.options import ConfigArg, JsonOption, SetOption, load
from synth.errors import ConfigError, TrainFailed
from synth.rundir import open_run

console = Console(stderr=True, soft_wrap=True)
ExpertOption = Annotated[list[str] | None, typer.Option("--expert", "-e", help="Expert to train (repeatable).")]
AllOption = Annotated[bool, typer.Option("--all", help="Train every exported expert.")]
TinyOption = Annotated[bool | None, typer.Option(
    "--tiny/--base", help="Tiny random model of the base architecture, or the real base model "
    "(default: the base model on a CUDA GPU, the tiny model on a CPU).", show_default=False)]
StepsOption = Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop after N optimizer steps.")]


@app.command("train")
def train_command(config: ConfigArg, expert: ExpertOption = None, all_experts: AllOption = False,
                  tiny: TinyOption = None, max_steps: StepsOption = None, sets: SetOption = None,
                  json_out: JsonOption = False) -> None:
    """LoRA-train expert adapters with TRL + PEFT from the packed parquet and the exported
    config/trl.yaml; the adapter goes where serve.sh looks (export/adapters/<expert>).

    Writes reports/train_<expert>.{json,html} with loss curves; exits 8 when training fails.
    """
    from synth.export import exported_experts
    from synth.train import TrainOptions, run_train

    cfg = load(config, sets)
    run = open_run(cfg)
    exported = exported_experts(run, TrainFailed)
    names = exported if all_experts else list(expert or [])
    if not names:
        raise ConfigError("name an expert with --expert NAME (repeatable) or pass --all")
    unknown = sorted(set(names) - set(exported))
    if unknown:
        raise ConfigError(f"not exported: {', '.join(unknown)}; exported: {', '.join(exported)}",
                          key="--expert")
    options = TrainOptions(tiny=tiny, max_steps=max_steps, config_path=str(config))
    results = run_train(cfg, run, names, options, log=lambda m: console.print(f"[dim]{m}[/]", highlight=False))
    if json_out:
        typer.echo("[" + ",".join(r.model_dump_json() for r in results) + "]")
        return
    table = Table("expert", "model", "steps", "loss", "val loss", "tokens/s", "adapter")
    for r in results:
        f = r.figures
        table.add_row(r.expert, f"{r.model_kind} ({r.device})", str(r.steps),
                      f"{f.get('first_loss', float('nan')):.4f} -> {f.get('last_loss', float('nan')):.4f}",
                      f"{f.get('first_val_loss', float('nan')):.4f} -> {f.get('last_val_loss', float('nan')):.4f}"
                      if "first_val_loss" in f else "-", f"{f.get('tokens_per_s', 0):.0f}", r.adapter_dir)
    console.print(table)
    for r in results:
        console.print(f"report: {run.report(f'train_{r.expert}.html')}")
    console.print(f"several GPUs: {results[0].accelerate_command.replace('<GPUs>', 'N')}")
