"""The train stage: a LoRA run per expert with TRL + PEFT from what `synth export` made.

Reads export/<expert>/packed/{train,val}.parquet (no second tokenization or packing) and
export/<expert>/config/trl.yaml (the exported LoRA and SFTConfig settings), trains on a GPU the
real base model and on a CPU a tiny random model of its architecture (the same code, so CI
covers it; `tiny` forces either), evaluates on the val split, and saves the adapter to
export/<adapters_dir>/<expert>, where serve.sh looks. The adapter must pass vLLM's LoRA loader
checks and, for the tiny model, reload into PEFT with the trained logits. Checkpoints go to
train/<expert>/; the report to reports/train_<expert>.{json,html}.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.config import RunConfig
from synth.errors import TrainFailed
from synth.export.chat import tokenizer_source
from synth.export.manifest import load_manifest
from synth.export.stage import base_model_of
from synth.records import TrainConfigFile, TrainResult
from synth.rundir import RunDir
from synth.train.adapter import RELOAD_TOLERANCE, adapter_problems, lora_b_moved, reload_difference
from synth.train.data import packed_dataset
from synth.train.launch import accelerate_command, training_extra_missing
from synth.train.model import real_model, tiny_model, tokenizer_with_pad
from synth.train.report import write_train_report
from synth.train.trainer import (
    build_trainer,
    load_train_config,
    loss_history,
    progress_callback,
    sft_settings,
)

Log = Callable[[str], None]


@dataclass
class TrainOptions:
    tiny: bool | None = None  # None: the tiny model unless a CUDA GPU is present
    max_steps: int | None = None  # stop early (smoke runs); None: the exported epochs
    config_path: str = "CONFIG"  # for the printed accelerate command
    adapter_dir: Path | None = None  # default export/<adapters_dir>/<expert> (serve.sh's)
    work_dir: Path | None = None  # checkpoints; default train/<expert>
    report: bool = True  # write reports/train_<expert>.{json,html}
    evaluate: bool = True  # evaluate on the val split (before training and per epoch)


@dataclass
class _Prepared:
    file: TrainConfigFile
    tokenizer: Any
    train: Any
    val: Any | None
    figures: dict[str, float]


def _prepare(config: RunConfig, run: RunDir, expert: str, model_source: Any) -> _Prepared:
    export = run.path("export")
    file = load_train_config(export / expert / "config" / "trl.yaml")
    pad = file.sft.get("pad_token")
    tokenizer = tokenizer_with_pad(tokenizer_source(config.export.tokenizer, model_source, config.resolve),
                               pad if isinstance(pad, str) else None)
    vocab = max(len(tokenizer), int(model_source.shape().vocab))
    train, figures = packed_dataset(export / file.data_files["train"], vocab)
    val = None
    if "val" in file.data_files:
        val, val_figures = packed_dataset(export / file.data_files["val"], vocab)
        figures.update({f"val_{k}": v for k, v in val_figures.items()})
    return _Prepared(file, tokenizer, train, val, {k: float(v) for k, v in figures.items()})


def train_expert(config: RunConfig, run: RunDir, expert: str, options: TrainOptions,
                 log: Log) -> TrainResult:
    """Train one expert's adapter; TrainFailed (after writing the report) on a bad result."""
    import torch

    manifest = load_manifest(run, TrainFailed)
    if manifest.base_model != config.export.base_model:
        raise TrainFailed(f"the export was made for {manifest.base_model} but export.base_model is "
                          f"{config.export.base_model}: run `synth export` again")
    model_source = base_model_of(config)
    prepared = _prepare(config, run, expert, model_source)
    if not options.evaluate:
        prepared.val = None
    cuda = torch.cuda.is_available()
    tiny = (not cuda) if options.tiny is None else options.tiny
    model = (tiny_model(model_source, prepared.tokenizer, seed=config.seed) if tiny
             else real_model(model_source, prepared.file.sft.get("model_init_kwargs"), cuda))  # type: ignore[arg-type]
    dtype = str(model.dtype).removeprefix("torch.")
    work_dir = options.work_dir or run.ensure("train", expert)
    settings = sft_settings(prepared.file, work_dir, cuda=cuda, has_val=prepared.val is not None,
                            max_steps=options.max_steps)
    trainer = build_trainer(prepared.file, model, prepared.tokenizer, prepared.train,
                            prepared.val, settings, [progress_callback(log)])
    log(f"{expert}: {'tiny random' if tiny else 'base'} {model_source.model_type} model on "
        f"{'cuda' if cuda else 'cpu'} in {dtype}, {prepared.figures['rows']:.0f} packed rows")
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    dtype = frozen_dtype(trainer.model)  # what the base weights were trained in
    adapter_dir = options.adapter_dir or run.path("export", config.export.adapters_dir, expert)
    if not trainer.is_world_process_zero():
        return _result(expert, model_source, (tiny, cuda, dtype), adapter_dir, trainer, settings, {}, [],
                       options)
    trainer.model.save_pretrained(str(adapter_dir))
    figures = dict(prepared.figures, seconds=round(seconds, 2))
    figures["tokens_per_s"] = round(figures["tokens"] * trainer.state.epoch / max(seconds, 1e-9), 1)
    figures["lora_b_moved"], figures["lora_b_total"] = lora_b_moved(before, trainer.model)
    if tiny:
        batch = next(iter(trainer.get_eval_dataloader() if prepared.val is not None
                          else trainer.get_train_dataloader()))
        fresh = tiny_model(model_source, prepared.tokenizer, seed=config.seed)
        figures["peft_reload_max_diff"] = reload_difference(trainer.model, fresh, adapter_dir, batch)
    result = _result(expert, model_source, (tiny, cuda, dtype), adapter_dir, trainer, settings, figures,
                     adapter_problems(adapter_dir), options)
    result.problems = verdict_problems(result)
    if options.report:
        write_train_report(run.reports, result)
    if result.problems:
        raise TrainFailed(f"{result.expert}: " + "; ".join(result.problems)
                          + (f" (report: reports/train_{result.expert}.html)" if options.report else ""))
    return result


def frozen_dtype(model: Any) -> str:
    """The dtype of the model's frozen (base) weights, e.g. float32."""
    frozen = next((p for p in model.parameters() if not p.requires_grad), None)
    return str((frozen if frozen is not None else next(model.parameters())).dtype).removeprefix("torch.")


def _result(expert: str, model_source: Any, machine: tuple[bool, bool, str], adapter_dir: Path,
            trainer: Any, settings: dict[str, Any], figures: dict[str, float], problems: list[str],
            options: TrainOptions) -> TrainResult:
    tiny, cuda, dtype = machine
    train_loss, eval_loss = loss_history(trainer.state.log_history)
    if train_loss:
        figures.update(first_loss=train_loss[0][1], last_loss=train_loss[-1][1])
    if eval_loss:
        figures.update(first_val_loss=eval_loss[0][1], last_val_loss=eval_loss[-1][1])
    shown = {k: v for k, v in settings.items() if isinstance(v, (str, int, float, bool)) or v is None}
    return TrainResult(expert=expert, base_model=model_source.serve_id,
                       model_kind="tiny" if tiny else "base", device="cuda" if cuda else "cpu",
                       dtype=dtype, adapter_dir=str(adapter_dir), steps=int(trainer.state.global_step),
                       train_loss=train_loss, eval_loss=eval_loss, figures=figures,
                       adapter_problems=problems, settings=shown,
                       accelerate_command=accelerate_command(options.config_path, expert))


def verdict_problems(result: TrainResult) -> list[str]:
    """Why the run did not give a usable adapter (empty: it did): a loss missing, not finite or
    that never fell, no lora_B weight moved, the adapter refused by vLLM's loader or reloading
    into PEFT with other logits."""
    losses = [loss for _, loss in result.train_loss + result.eval_loss]
    problems = list(result.adapter_problems)
    if not losses or not all(math.isfinite(x) for x in losses):
        problems.append(f"loss is missing or not finite: {losses[:5]}")
    else:
        problems += loss_never_fell(result)
    if not result.figures.get("lora_b_moved"):
        problems.append("no lora_B weight changed")
    if result.figures.get("peft_reload_max_diff", 0.0) > RELOAD_TOLERANCE:
        problems.append(f"the saved adapter reloads into PEFT with logits "
                        f"{result.figures['peft_reload_max_diff']:.2e} off")
    return problems


def loss_never_fell(result: TrainResult) -> list[str]:
    """A problem when neither the train nor the val loss ever went below its first value (a
    curve of one point, e.g. a 1-step run without val, cannot show a fall and is not judged)."""
    curves = {name: [loss for _, loss in points] for name, points in
              (("train", result.train_loss), ("val", result.eval_loss)) if len(points) >= 2}
    if not curves or any(min(c[1:]) < c[0] for c in curves.values()):
        return []
    seen = ", ".join(f"{name} {c[0]:.4f} -> lowest {min(c[1:]):.4f}" for name, c in curves.items())
    return [f"the loss never fell below its first value in {result.steps} steps ({seen}): "
            "the adapter learned nothing (raise the learning rate or check the data)"]


def run_train(config: RunConfig, run: RunDir, experts: list[str], options: TrainOptions,
              log: Log) -> list[TrainResult]:
    """Train each named expert in turn (stops at the first failure)."""
    missing = training_extra_missing()
    if missing:
        raise TrainFailed(f"the train extra is not installed ({missing} missing): "
                          "pip install -e '.[train]' torch==2.13.0")
    return [train_expert(config, run, expert, options, log) for expert in experts]
