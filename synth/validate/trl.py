"""TRL + PEFT gate: each expert's TRL export loads with `datasets` and trains one LoRA step.

The model is a randomly initialised 2-layer model of the target architecture (Qwen3 or Llama,
hidden size 32, built from a config: nothing downloaded) with the real target tokenizer. The
step must give a finite loss, masked prompt labels and moved `lora_B` weights; the saved
adapter must be one vLLM can serve (plain LoRA, no DoRA, no modules_to_save, no embedding or
lm_head targets).
"""
from __future__ import annotations

import importlib.util
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.export.trainconfig import pad_token_for
from synth.records import ValidationCheck

TRAIN_EXTRA = ("torch", "peft", "trl", "datasets", "accelerate", "safetensors")
PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
STEP_ROWS = 8  # rows the one step sees (the whole file is still loaded by `datasets`)
FORBIDDEN_TARGETS = ("embed", "lm_head")


def training_extra_missing() -> str:
    """The first missing module of the train extra, or '' when all are installed."""
    return next((m for m in TRAIN_EXTRA if importlib.util.find_spec(m) is None), "")


@dataclass
class LoraSpec:
    r: int
    alpha: int
    dropout: float


@dataclass
class TrlTarget:
    expert: str
    trl_dir: Path
    out_dir: Path
    lora: LoraSpec


def load_tokenizer(tokenizer_dir: str, base_model: str = "qwen3") -> Any:
    """The target tokenizer with the pad token the exported training configs set."""
    from synth.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_dir)
    pad = pad_token_for(tokenizer, base_model)
    if pad:
        tokenizer.pad_token = pad
    return tokenizer


def tiny_model(base_model: str, tokenizer: Any) -> Any:
    """A random 2-layer model of the target architecture sized to the tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

    config_class, model_class = ((Qwen3Config, Qwen3ForCausalLM) if base_model == "qwen3"
                                 else (LlamaConfig, LlamaForCausalLM))
    config = config_class(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          head_dim=8, max_position_embeddings=8192, tie_word_embeddings=False,
                          pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                          use_cache=False)
    torch.manual_seed(0)
    return model_class(config)


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


def _trainer(target: TrlTarget, train: Any, base_model: str, tokenizer: Any, max_length: int) -> Any:
    from peft import LoraConfig
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    shutil.rmtree(target.out_dir, ignore_errors=True)
    args = SFTConfig(output_dir=str(target.out_dir), max_steps=1, per_device_train_batch_size=2,
                     learning_rate=1e-3, use_cpu=True, bf16=False, report_to="none",
                     logging_steps=1, save_strategy="no", max_length=max_length, seed=0,
                     lr_scheduler_type="constant", warmup_steps=0, disable_tqdm=True)
    peft_config = LoraConfig(r=target.lora.r, lora_alpha=target.lora.alpha,
                             lora_dropout=target.lora.dropout, target_modules=PROJECTIONS,
                             task_type="CAUSAL_LM")
    try:
        trainer = SFTTrainer(model=tiny_model(base_model, tokenizer), args=args, train_dataset=train,
                             processing_class=tokenizer, peft_config=peft_config)
    except (KeyError, TypeError, ValueError) as exc:
        raise StepFailed(f"TRL cannot prepare {target.trl_dir}/train.jsonl: "
                         f"{type(exc).__name__}: {exc}") from None
    trainer.remove_callback(PrinterCallback)
    return trainer


def _one_step(trainer: Any) -> dict[str, float]:
    """Train one step; figures plus the checks on labels, loss and lora_B."""
    import torch

    labels = next(iter(trainer.get_train_dataloader()))["labels"]
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    loss = float(trainer.train().training_loss)
    moved = sum(not torch.equal(before[n], p.detach())
                for n, p in trainer.model.named_parameters() if n in before)
    figures = {"loss": loss, "lora_b_moved": moved, "lora_b_total": len(before)}
    if not bool((labels == -100).any()) or not bool((labels != -100).any()):
        raise StepFailed("batch labels are not prompt-masked (-100 on the prompt, ids on the answer)",
                         **figures)
    if not math.isfinite(loss):
        raise StepFailed(f"loss is not finite: {loss}", **figures)
    if moved == 0:
        raise StepFailed("no lora_B weight changed after the step", **figures)
    return figures


def lora_step(target: TrlTarget, base_model: str, tokenizer: Any, max_length: int) -> ValidationCheck:
    """Load the export, run one LoRA SFT step, save the adapter; the check's verdict."""
    try:
        train, rows = _train_rows(target.trl_dir)
        trainer = _trainer(target, train, base_model, tokenizer, max_length)
        figures = _one_step(trainer)
    except StepFailed as exc:
        return ValidationCheck(expert=target.expert, check="trl_lora_step", status="fail",
                               detail=str(exc), figures=exc.figures)
    trainer.save_model(str(target.out_dir / "adapter"))
    figures.update(train_rows=rows["train"], val_rows=rows.get("val", 0))
    return ValidationCheck(
        expert=target.expert, check="trl_lora_step", status="pass", figures=figures,
        detail=f"1 LoRA step (r={target.lora.r}) on a random 2-layer {base_model} model: loss "
               f"{figures['loss']:.3f}, {figures['lora_b_moved']:g}/{figures['lora_b_total']:g} lora_B moved")


def adapter_problems(adapter_dir: Path) -> list[str]:
    """Why vLLM would refuse this adapter (empty when it can serve it)."""
    config_path = adapter_dir / "adapter_config.json"
    if not config_path.exists():
        return [f"{config_path} missing"]
    config = json.loads(config_path.read_text(encoding="utf-8"))
    problems = [f"{key} missing" for key in ("r", "lora_alpha", "target_modules") if not config.get(key)]
    if config.get("peft_type") != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}, not LORA")
    if config.get("use_dora"):
        problems.append("use_dora is true (vLLM rejects DoRA)")
    if config.get("modules_to_save"):
        problems.append(f"modules_to_save is {config['modules_to_save']} (vLLM rejects it)")
    targets = config.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else targets
    problems += [f"target {t!r} is an embedding/lm_head" for t in targets
                 if any(f in t for f in FORBIDDEN_TARGETS)]
    return problems + _weight_problems(adapter_dir)


def _weight_problems(adapter_dir: Path) -> list[str]:
    from safetensors import safe_open

    weights = adapter_dir / "adapter_model.safetensors"
    if not weights.exists():
        return [f"{weights} missing"]
    with safe_open(str(weights), framework="pt") as handle:
        keys = list(handle.keys())
    bad = [k for k in keys if any(f in k for f in FORBIDDEN_TARGETS)]
    problems = [f"weights hold {len(bad)} embedding/lm_head tensor(s), e.g. {bad[0]}"] if bad else []
    return problems + ([] if any("lora_B" in k for k in keys) else ["no lora_B tensors saved"])


def adapter_check(expert: str, adapter_dir: Path) -> ValidationCheck:
    problems = adapter_problems(adapter_dir)
    if problems:
        return ValidationCheck(expert=expert, check="adapter_servable", status="fail",
                               detail="; ".join(problems))
    return ValidationCheck(expert=expert, check="adapter_servable", status="pass",
                           detail=f"plain LoRA adapter in {adapter_dir} (vLLM --lora-modules)")
