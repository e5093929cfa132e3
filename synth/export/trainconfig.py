"""The TRL + PEFT training config per expert (what `synth train` and `synth validate` run) and
the vLLM serving command. The LitGPT config is in synth.export.litgpt.

Paths inside the configs are relative to the export folder (run the trainers from there).
`config/trl.yaml` trains from the packed parquet (`data_files`: input_ids, labels, seq_lengths
made by synth.export.pack; TRL's padding-free collator, no second tokenization, hence
`packing: false`, `max_length: null`, `dataset_kwargs.skip_prepare_dataset: true`). The same
pairs as TRL prompt/completion JSONL are in `jsonl_files`, with `jsonl_sft`: the SFTConfig
overrides under which TRL tokenizes and packs them itself (bfd packing, max_length).
Hyper-parameters: r, alpha (default 2r), dropout, learning rate (per communication style) and
epochs from the expert's `training` block in experts.yaml; LoRA on all 7 linear projections
(plain LoRA: no DoRA, no modules_to_save, so vLLM can serve the adapters); cosine schedule
with about 10 warmup steps (fewer on small data, always >= 1 and below the total);
micro-batch size, gradient accumulation and gradient checkpointing from synth.export.memory.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import Any

from synth.config import ExportConfig
from synth.experts import Expert
from synth.export.basemodel import BaseModelSource
from synth.export.memory import PROJECTIONS, batch_schedule, plan

VLLM_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
# families whose decoder layers name their projections q/k/v/o_proj and gate/up/down_proj
NAMED_PROJECTIONS = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3",
                     "gemma3_text", "olmo2", "granite", "smollm3", "phi3"}


@dataclass(frozen=True)
class DataStats:
    """What the configs are sized from, per expert."""

    train_examples: int
    val_examples: int
    mean_tokens: float
    max_tokens: int
    train_rows: int  # packed rows of max_seq_len


def lora_alpha(expert: Expert) -> int:
    return expert.training.lora_alpha or 2 * expert.training.lora_r


def lora_targets(model_type: str) -> list[str] | str:
    """The 7 projections by name where the family has them, else PEFT's "all-linear" (PEFT
    writes the resolved names into adapter_config.json, which is what vLLM reads)."""
    return list(PROJECTIONS) if model_type in NAMED_PROJECTIONS else "all-linear"


def peft_lora(expert: Expert, model_type: str = "qwen3") -> dict[str, Any]:
    """peft.LoraConfig keyword arguments."""
    t = expert.training
    return {
        "r": t.lora_r,
        "lora_alpha": lora_alpha(expert),
        "lora_dropout": t.lora_dropout,
        "target_modules": lora_targets(model_type),
        "bias": "none",
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
        "modules_to_save": None,
    }


def warmup_steps(total_steps: int) -> int:
    return max(1, min(10, total_steps // 10, total_steps - 1))


def _files(expert: str, fmt: str, ext: str, has_val: bool) -> dict[str, str]:
    files = {"train": f"{expert}/{fmt}/train.{ext}"}
    if has_val:
        files["val"] = f"{expert}/{fmt}/val.{ext}"
    return files


def trl_config(expert: Expert, stats: DataStats, cfg: ExportConfig, model: BaseModelSource,
               pad_token: str | None, seed: int) -> dict[str, Any]:
    """base model, data files, peft.LoraConfig and trl.SFTConfig kwargs, and the memory plan."""
    memory = plan(model.shape(), cfg.gpu, cfg.max_seq_len, expert.training.lora_r,
                  expert.training.lora_dropout, trainer="trl")
    micro, accum = batch_schedule(memory.micro_batch_rows, cfg.effective_batch, stats.mean_tokens,
                                  cfg.max_seq_len, packed=True)
    steps = max(1, math.ceil(stats.train_rows / (micro * accum))) * expert.training.epochs
    has_val = stats.val_examples > 0
    sft: dict[str, Any] = {
        "output_dir": f"{cfg.adapters_dir}/{expert.name}",
        "learning_rate": expert.training.learning_rate,
        "num_train_epochs": expert.training.epochs,
        "per_device_train_batch_size": micro,
        "per_device_eval_batch_size": micro,
        "gradient_accumulation_steps": accum,
        "packing": False,  # rows are packed already
        "padding_free": True,
        "max_length": None,  # rows are at most max_seq_len already
        "dataset_kwargs": {"skip_prepare_dataset": True},
        "activation_checkpointing": memory.gradient_checkpointing,  # transformers 5 name
        "bf16": True,
        "lr_scheduler_type": "cosine",
        "warmup_steps": warmup_steps(steps),
        "logging_steps": 1,
        "eval_strategy": "epoch" if has_val else "no",
        "eval_on_start": has_val,
        "save_strategy": "epoch",
        "save_total_limit": 2,
        "load_best_model_at_end": has_val,
        "report_to": "none",
        "seed": seed,
        "model_init_kwargs": {"attn_implementation": "flash_attention_2", "dtype": "bfloat16"},
    }
    if has_val:
        sft.update(metric_for_best_model="eval_loss", greater_is_better=False)
    if pad_token:
        sft["pad_token"] = pad_token
    return {
        "base_model": model.serve_id,
        "expert": expert.name,
        "data_files": _files(expert.name, "packed", "parquet", has_val),
        "jsonl_files": _files(expert.name, "trl", "jsonl", has_val),
        "jsonl_sft": {"packing": True, "packing_strategy": "bfd", "max_length": cfg.max_seq_len,
                      "completion_only_loss": True, "dataset_kwargs": None},
        "lora": peft_lora(expert, model.model_type),
        "sft": sft,
        "expected_optimizer_steps": steps,
        "memory": memory.as_dict(),
    }


def vllm_max_lora_rank(ranks: list[int]) -> int:
    """The smallest rank vLLM accepts that is >= every adapter's r."""
    needed = max(ranks)
    return next((r for r in VLLM_RANKS if r >= needed), needed)


def serve_script(experts: list[Expert], cfg: ExportConfig, model: BaseModelSource,
                 template_kwargs: dict[str, Any]) -> str:
    """export/serve.sh: one vLLM server, one LoRA adapter per expert (request model = expert)."""
    modules = " \\\n    ".join(f'{e.name}="$ADAPTERS/{e.name}"' for e in experts)
    rank = vllm_max_lora_rank([e.training.lora_r for e in experts])
    kwargs = ", ".join(f'"{k}": {str(v).lower()}' for k, v in template_kwargs.items())
    return (
        "#!/usr/bin/env bash\n"
        "# vLLM multi-LoRA server for the synth experts (generated by `synth export`).\n"
        "# Adapters: what `synth train` writes (the PEFT output dirs of <expert>/config/trl.yaml);\n"
        '# LitGPT cannot export PEFT adapters. A request picks its expert with "model": <expert>.\n'
        + (f'# Send "chat_template_kwargs": {{{kwargs}}} with each request.\n' if kwargs else "")
        + 'set -euo pipefail\ncd "$(dirname "$0")"\n'
        f'ADAPTERS="${{ADAPTERS:-{cfg.adapters_dir}}}"\n'
        f"exec vllm serve {shlex.quote(model.serve_id)} \\\n"
        "  --enable-lora \\\n"
        f"  --lora-modules \\\n    {modules} \\\n"
        f"  --max-loras {len(experts)} \\\n"
        f"  --max-cpu-loras {len(experts)} \\\n"
        f"  --max-lora-rank {rank} \\\n"
        "  --chat-template chat_template.jinja \\\n"
        '  "$@"\n'
    )
