"""TRL + PEFT gates, run with the exported config/trl.yaml (what `synth train` runs).

  trl_lora_step    `synth train`'s own code (synth.train) for one step on the packed parquet:
                   a random 2-layer model of the base architecture (from its config.json,
                   nothing downloaded), the exported LoRA and SFTConfig, warmup off for the one
                   step; loss finite, lora_B moved, the adapter reloads into PEFT as trained
  trl_jsonl_step   `datasets` loads the TRL prompt/completion JSONL and TRL tokenizes and packs
                   it itself (the config's `jsonl_sft` overrides) for one step: labels are
                   prompt-masked, the loss finite, lora_B moved
  adapter_servable the adapter of the packed step is plain LoRA that vLLM can serve
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from synth.errors import InputError, TrainFailed
from synth.export.basemodel import BaseModelSource
from synth.records import TrainConfigFile, ValidationCheck
from synth.train.adapter import adapter_problems, lora_b_moved
from synth.train.model import tiny_model
from synth.train.trainer import build_trainer

STEP_ROWS = 8  # rows the JSONL step sees (the whole file is still loaded by `datasets`)


def load_export(trl_dir: Path) -> Any:
    """The expert's TRL files as a `datasets` DatasetDict (empty files left out)."""
    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()
    files = {split: str(trl_dir / f"{split}.jsonl") for split in ("train", "val")
             if (trl_dir / f"{split}.jsonl").exists() and (trl_dir / f"{split}.jsonl").stat().st_size}
    if "train" not in files:
        raise ValueError(f"{trl_dir}/train.jsonl is missing or empty")
    return load_dataset("json", data_files=files)


class StepFailed(Exception):
    """The TRL step cannot run or gave a bad result; the message is the check's detail."""

    def __init__(self, detail: str, **figures: float):
        super().__init__(detail)
        self.figures = figures


def _check(expert: str, name: str, status: str, detail: str, **figures: float) -> ValidationCheck:
    return ValidationCheck(expert=expert, check=name, status=status, detail=detail,  # type: ignore[arg-type]
                           figures=figures)


def packed_step(train_one: Any, expert: str, adapter_dir: Path) -> list[ValidationCheck]:
    """trl_lora_step + adapter_servable: `train_one()` runs synth train for one step."""
    try:
        result = train_one()
    except (TrainFailed, InputError) as exc:
        return [_check(expert, "trl_lora_step", "fail", str(exc)),
                _check(expert, "adapter_servable", "skipped", "the packed TRL step failed")]
    figures = {k: v for k, v in result.figures.items()
               if k in ("rows", "tokens", "trained_tokens", "lora_b_moved", "lora_b_total",
                        "peft_reload_max_diff", "first_loss")}
    step = _check(expert, "trl_lora_step", "pass",
                  f"synth train, 1 step on {figures.get('rows', 0):g} packed row(s) with "
                  f"config/trl.yaml on a random 2-layer model: loss {figures.get('first_loss', 0):.3f}, "
                  f"{figures.get('lora_b_moved', 0):g}/{figures.get('lora_b_total', 0):g} lora_B moved, "
                  f"PEFT reload max diff {figures.get('peft_reload_max_diff', 0):.1e}", **figures)
    problems = adapter_problems(adapter_dir)
    servable = (_check(expert, "adapter_servable", "fail", "; ".join(problems)) if problems else
                _check(expert, "adapter_servable", "pass",
                       f"plain LoRA adapter in {adapter_dir} (vLLM --lora-modules)"))
    return [step, servable]


def _train_rows(trl_dir: Path) -> tuple[Any, dict[str, int]]:
    """The first STEP_ROWS train rows and the row count of each split."""
    from datasets.exceptions import DatasetsError

    try:
        data = load_export(trl_dir)
    except (ValueError, OSError, DatasetsError) as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise StepFailed(f"`datasets` cannot load {trl_dir}: {exc}{cause}"[:600]) from None
    missing = {"prompt", "completion"} - set(data["train"].column_names)
    if missing:
        raise StepFailed(f"{trl_dir}/train.jsonl lacks column(s) {sorted(missing)}")
    rows = {split: data[split].num_rows for split in data}
    return data["train"].select(range(min(STEP_ROWS, rows["train"]))), rows


def jsonl_settings(file: TrainConfigFile, out_dir: Path) -> dict[str, Any]:
    """The exported SFTConfig with its `jsonl_sft` overrides, one CPU step, no warmup."""
    sft = {**file.sft, **file.jsonl_sft}
    sft.update(output_dir=str(out_dir), max_steps=1, warmup_steps=0, use_cpu=True, bf16=False,
               model_init_kwargs=None, save_strategy="no", eval_strategy="no", eval_on_start=False,
               load_best_model_at_end=False, disable_tqdm=True)
    sft.pop("metric_for_best_model", None)
    return sft


def jsonl_step(file: TrainConfigFile, trl_dir: Path, out_dir: Path, model: BaseModelSource,
               tokenizer: Any) -> ValidationCheck:
    """trl_jsonl_step: TRL renders, masks and packs the JSONL itself and trains one step."""
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        train, rows = _train_rows(trl_dir)
        try:
            trainer = build_trainer(file, tiny_model(model, tokenizer), tokenizer, train, None,
                                    jsonl_settings(file, out_dir), [])
        except (KeyError, TypeError, ValueError) as exc:
            raise StepFailed(f"TRL cannot prepare {trl_dir}/train.jsonl: "
                             f"{type(exc).__name__}: {exc}") from None
        figures = _one_step(trainer)
    except StepFailed as exc:
        return _check(file.expert, "trl_jsonl_step", "fail", str(exc), **exc.figures)
    figures.update(train_rows=rows["train"], val_rows=rows.get("val", 0))
    return _check(file.expert, "trl_jsonl_step", "pass",
                  f"TRL tokenized and packed trl/train.jsonl (bfd) and trained 1 step: loss "
                  f"{figures['loss']:.3f}, {figures['lora_b_moved']:g}/{figures['lora_b_total']:g} "
                  "lora_B moved", **figures)


def _one_step(trainer: Any) -> dict[str, float]:
    """Train one step; figures plus the checks on labels, loss and lora_B."""
    labels = next(iter(trainer.get_train_dataloader()))["labels"]
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    loss = float(trainer.train().training_loss)
    moved, total = lora_b_moved(before, trainer.model)
    figures = {"loss": loss, "lora_b_moved": moved, "lora_b_total": total}
    if not bool((labels == -100).any()) or not bool((labels != -100).any()):
        raise StepFailed("batch labels are not prompt-masked (-100 on the prompt, ids on the answer)",
                         **figures)
    if not math.isfinite(loss):
        raise StepFailed(f"loss is not finite: {loss}", **figures)
    if moved == 0:
        raise StepFailed("no lora_B weight changed after the step", **figures)
    return figures
