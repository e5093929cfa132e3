"""Training configs per expert (PEFT/TRL and LitGPT finetune_lora) and the vLLM serving command.

Paths inside the configs are relative to the export folder (run the trainers from there).
Hyper-parameters: r, alpha (default 2r), dropout, learning rate (per communication style) and
epochs from the expert's `training` block in experts.yaml; LoRA on all 7 linear projections
(plain LoRA: no DoRA, no modules_to_save, so vLLM can serve the adapters); cosine schedule
with about 10 warmup steps (fewer on small data, always >= 1 and below the total);
micro-batch size, gradient accumulation and gradient checkpointing from synth.memory.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import Any

from synth.config import ExportConfig
from synth.experts import Expert
from synth.export.chat import DEFAULT_HUB_IDS
from synth.export.memory import PROJECTIONS, batch_schedule, plan

PROMPT_STYLES = {"qwen3": "qwen3", "llama3_1": "llama3"}
VLLM_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
LITGPT_EVAL_NEW_TOKENS = 256
LITGPT_HEADROOM = 32  # tokens


@dataclass(frozen=True)
class DataStats:
    """What the configs are sized from, per expert."""

    train_examples: int
    val_examples: int
    mean_tokens: float
    max_tokens: int
    train_rows: int  # packed rows of max_seq_len


def base_model_id(cfg: ExportConfig) -> str:
    return cfg.base_model_id or DEFAULT_HUB_IDS[cfg.base_model]


def lora_alpha(expert: Expert) -> int:
    return expert.training.lora_alpha or 2 * expert.training.lora_r


def peft_lora(expert: Expert) -> dict[str, Any]:
    """peft.LoraConfig keyword arguments."""
    t = expert.training
    return {
        "r": t.lora_r,
        "lora_alpha": lora_alpha(expert),
        "lora_dropout": t.lora_dropout,
        "target_modules": list(PROJECTIONS),
        "bias": "none",
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
        "modules_to_save": None,
    }


def warmup_steps(total_steps: int) -> int:
    return max(1, min(10, total_steps // 10, total_steps - 1))


def trl_config(
    expert: Expert, stats: DataStats, cfg: ExportConfig, pad_token: str | None, seed: int
) -> dict[str, Any]:
    """base model, data files, peft.LoraConfig and trl.SFTConfig kwargs, and the memory plan."""
    memory = plan(
        cfg.base_model,
        cfg.gpu,
        cfg.max_seq_len,
        expert.training.lora_r,
        expert.training.lora_dropout,
    )
    micro, accum = batch_schedule(
        memory.micro_batch_rows,
        cfg.effective_batch,
        stats.mean_tokens,
        cfg.max_seq_len,
        packed=True,
    )
    steps = max(1, math.ceil(stats.train_rows / (micro * accum))) * expert.training.epochs
    has_val = stats.val_examples > 0
    sft: dict[str, Any] = {
        "output_dir": f"{cfg.adapters_dir}/{expert.name}",
        "learning_rate": expert.training.learning_rate,
        "num_train_epochs": expert.training.epochs,
        "per_device_train_batch_size": micro,
        "per_device_eval_batch_size": micro,
        "gradient_accumulation_steps": accum,
        "max_length": cfg.max_seq_len,
        "packing": True,
        "packing_strategy": "bfd",
        "padding_free": True,
        "completion_only_loss": True,
        "gradient_checkpointing": memory.gradient_checkpointing,
        "bf16": True,
        "lr_scheduler_type": "cosine",
        "warmup_steps": warmup_steps(steps),
        "logging_steps": 1,
        "eval_strategy": "epoch" if has_val else "no",
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
    files = {"train": f"{expert.name}/trl/train.jsonl"}
    if has_val:
        files["val"] = f"{expert.name}/trl/val.jsonl"
    return {
        "base_model": base_model_id(cfg),
        "expert": expert.name,
        "data_files": files,
        "lora": peft_lora(expert),
        "sft": sft,
        "expected_optimizer_steps": steps,
        "memory": memory.as_dict(),
    }


def litgpt_config(expert: Expert, stats: DataStats, cfg: ExportConfig, seed: int) -> dict[str, Any]:
    """A `litgpt finetune_lora --config` file (no packing: rows pad to the longest in a batch)."""
    t = expert.training
    # LitGPT renders with its own prompt style (no empty think block): leave some headroom
    seq_len = min(cfg.max_seq_len, math.ceil((stats.max_tokens + LITGPT_HEADROOM) / 64) * 64)
    memory = plan(cfg.base_model, cfg.gpu, seq_len, t.lora_r, t.lora_dropout, checkpointing=False)
    micro, accum = batch_schedule(
        memory.micro_batch_rows, cfg.effective_batch, stats.mean_tokens, seq_len, packed=False
    )
    micro = min(micro, max(1, stats.train_examples))
    global_batch = max(micro, min(micro * accum, stats.train_examples) // micro * micro)
    steps_per_epoch = max(1, stats.train_examples // global_batch)
    epochs = max(t.epochs, math.ceil(2 / steps_per_epoch))  # LitGPT needs total steps > warmup
    return {
        "checkpoint_dir": f"checkpoints/{base_model_id(cfg)}",
        "out_dir": f"out/litgpt/{expert.name}",
        "precision": "bf16-true",
        "devices": 1,
        "num_nodes": 1,
        "lora_r": t.lora_r,
        "lora_alpha": lora_alpha(expert),
        "lora_dropout": t.lora_dropout,
        "lora_query": True,
        "lora_key": True,
        "lora_value": True,
        "lora_projection": True,
        "lora_mlp": True,
        "lora_head": False,
        "data": {
            "class_path": "litgpt.data.JSON",
            "init_args": {
                "json_path": f"{expert.name}/litgpt",
                "mask_prompt": True,
                "prompt_style": PROMPT_STYLES[cfg.base_model],
                "ignore_index": -100,
                "seed": seed,
                "num_workers": 4,
            },
        },
        "train": {
            "save_interval": 1000,
            "log_interval": 1,
            "global_batch_size": global_batch,
            "micro_batch_size": micro,
            "lr_warmup_steps": warmup_steps(steps_per_epoch * epochs),
            "epochs": epochs,
            "max_seq_length": seq_len,
            "min_lr": t.learning_rate / 10,
        },
        "eval": {
            "interval": max(1, steps_per_epoch),
            "max_new_tokens": LITGPT_EVAL_NEW_TOKENS,
            "max_iters": 100,
            "initial_validation": False,
            "final_validation": True,
        },
        "optimizer": {
            "class_path": "torch.optim.AdamW",
            "init_args": {"lr": t.learning_rate, "weight_decay": 0.0, "betas": [0.9, 0.95]},
        },
        "logger_name": "csv",
        "seed": seed,
    }


def vllm_max_lora_rank(ranks: list[int]) -> int:
    """The smallest rank vLLM accepts that is >= every adapter's r."""
    needed = max(ranks)
    return next((r for r in VLLM_RANKS if r >= needed), needed)


def serve_script(experts: list[Expert], cfg: ExportConfig) -> str:
    """export/serve.sh: one vLLM server, one LoRA adapter per expert (request model = expert)."""
    modules = " \\\n    ".join(f'{e.name}="$ADAPTERS/{e.name}"' for e in experts)
    rank = vllm_max_lora_rank([e.training.lora_r for e in experts])
    return (
        "#!/usr/bin/env bash\n"
        "# vLLM multi-LoRA server for the synth experts (generated by `synth export`).\n"
        "# Adapters: the PEFT output dirs of the TRL configs (<expert>/config/trl.yaml);\n"
        '# LitGPT cannot export PEFT adapters. A request picks its expert with "model": <expert>.\n'
        + (
            '# Qwen3: send "chat_template_kwargs": {"enable_thinking": false} with each request.\n'
            if cfg.base_model == "qwen3"
            else ""
        )
        + 'set -euo pipefail\ncd "$(dirname "$0")"\n'
        f'ADAPTERS="${{ADAPTERS:-{cfg.adapters_dir}}}"\n'
        f"exec vllm serve {shlex.quote(base_model_id(cfg))} \\\n"
        "  --enable-lora \\\n"
        f"  --lora-modules \\\n    {modules} \\\n"
        f"  --max-loras {len(experts)} \\\n"
        f"  --max-cpu-loras {len(experts)} \\\n"
        f"  --max-lora-rank {rank} \\\n"
        "  --chat-template chat_template.jinja \\\n"
        '  "$@"\n'
    )


def pad_token_for(tokenizer: Any, base_model: str) -> str | None:
    """The pad token the trainer should set, when the tokenizer has none (Llama 3)."""
    if tokenizer.pad_token:
        return None
    added = tokenizer.get_added_vocab()
    if "<|finetune_right_pad_id|>" in added:
        return "<|finetune_right_pad_id|>"
    if base_model == "llama3_1" and len(tokenizer) > 128004:
        return tokenizer.convert_ids_to_tokens(128004)  # Llama 3.1's finetune_right_pad_id slot
    reserved = sorted((i, s) for s, i in added.items() if "pad" in s or "reserved" in s)
    return reserved[0][1] if reserved else tokenizer.eos_token
