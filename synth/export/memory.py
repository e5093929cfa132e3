"""A memory model of LoRA fine-tuning on one GPU: micro-batch size and gradient checkpointing.

All sizes in bytes, bf16 (2 bytes) weights and activations, for a decoder of L layers, hidden
size h, attention widths q = heads*head_dim and kv = kv_heads*head_dim, MLP width f, vocab V:

  weights       W = P_base * 2
  LoRA state    S = 16 * r * sum(d_in + d_out) over adapted linear layers
                    (fp32 weight + fp32 grad + two fp32 Adam moments per LoRA parameter)
  per token, per layer, saved for backward (flash attention: no seq^2 term):
                a = 2 * (10h + 4q + 4kv + 4f)            norms, q/k/v/o, rope, SwiGLU
                  + 3 * D                                LoRA dropout copy (bf16) + mask (bool)
                where D = sum of d_in of adapted layers (0 when lora_dropout is 0)
  per token, logits and loss: g = 14 * V                 bf16 logits, fp32 upcast, log-softmax,
                                                         its grad, and TRL's entropy metric
  per token without checkpointing:  t_full = L * a + g
  per token with checkpointing:     t_ckpt = L * 2h + a + g  (layer inputs kept, one layer
                                                              recomputed at a time)
  budget B = usable * gpu_bytes - W - S - overhead   (usable 0.92, overhead 1.5 GiB: CUDA
                                                      context, allocator fragmentation)
  tokens per micro-batch T = B / t ; micro-batch rows = floor(T / seq_len)

Checkpointing is used only when one row does not fit without it (it costs ~1/3 more compute).
Qwen3-8B, r=16, all 7 projections, dropout 0.05, H100 80GB: t_full ~ 13.4 MiB, t_ckpt ~ 2.6 MiB,
so ~4.2k tokens per micro-batch without checkpointing and ~21k with it. Reference points:
LitGPT's resource table (Llama-2-7B, A100-40GB, 1,304-token rows, q/v LoRA: 21.3 GB at
micro-batch 1; this model says 24.7 GiB, ~16% on the safe side) and ~25-40k tokens with
checkpointing on 80 GB (reference.md section 4). Probe with torch.cuda.max_memory_allocated().
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from synth.errors import ConfigError

GIB = 1024**3
USABLE = 0.92
OVERHEAD = 1.5 * GIB
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class ModelShape:
    name: str
    params: float
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int

    def linear_dims(self) -> dict[str, tuple[int, int]]:
        """(d_in, d_out) of each projection in one decoder layer."""
        h, q, kv, f = (
            self.hidden,
            self.heads * self.head_dim,
            self.kv_heads * self.head_dim,
            self.intermediate,
        )
        return {
            "q_proj": (h, q),
            "k_proj": (h, kv),
            "v_proj": (h, kv),
            "o_proj": (q, h),
            "gate_proj": (h, f),
            "up_proj": (h, f),
            "down_proj": (f, h),
        }


SHAPES = {
    "qwen3": ModelShape("Qwen3-8B", 8.19e9, 36, 4096, 12288, 32, 8, 128, 151936),
    "llama3_1": ModelShape("Llama-3.1-8B", 8.03e9, 32, 4096, 14336, 32, 8, 128, 128256),
}
GPUS_GIB = {
    "H100-80GB": 79.2,
    "A100-80GB": 79.2,
    "H200": 139.8,
    "A100-40GB": 39.4,
    "L40S": 44.4,
    "A10G": 22.0,
    "RTX4090": 23.6,
}


@dataclass(frozen=True)
class MemoryPlan:
    gpu: str
    seq_len: int
    gradient_checkpointing: bool
    micro_batch_rows: int
    tokens_per_micro_batch: int
    weights_gib: float
    lora_params: int
    per_token_mib: float
    budget_gib: float

    def as_dict(self) -> dict[str, float | int | str | bool]:
        return dict(self.__dict__)


def lora_params(shape: ModelShape, r: int, targets: tuple[str, ...] = PROJECTIONS) -> int:
    dims = shape.linear_dims()
    return shape.layers * r * sum(dims[t][0] + dims[t][1] for t in targets)


def activation_bytes_per_token_layer(
    shape: ModelShape, dropout: float, targets: tuple[str, ...] = PROJECTIONS
) -> int:
    h, f = shape.hidden, shape.intermediate
    q, kv = shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim
    dropout_inputs = sum(shape.linear_dims()[t][0] for t in targets) if dropout > 0 else 0
    return 2 * (10 * h + 4 * q + 4 * kv + 4 * f) + 3 * dropout_inputs


def per_token_bytes(shape: ModelShape, dropout: float, checkpointing: bool) -> int:
    layer = activation_bytes_per_token_layer(shape, dropout)
    logits = 14 * shape.vocab
    if checkpointing:
        return shape.layers * 2 * shape.hidden + layer + logits
    return shape.layers * layer + logits


def gpu_bytes(gpu: str) -> float:
    if gpu not in GPUS_GIB:
        raise ConfigError(f"unknown GPU {gpu!r}; known: {', '.join(GPUS_GIB)}", key="export.gpu")
    return GPUS_GIB[gpu] * GIB


def plan(
    base_model: str,
    gpu: str,
    seq_len: int,
    r: int,
    dropout: float,
    checkpointing: bool | None = None,
) -> MemoryPlan:
    """Micro-batch rows of seq_len tokens that fit; checkpointing only when needed (None)."""
    shape = SHAPES[base_model]
    params = lora_params(shape, r)
    budget = USABLE * gpu_bytes(gpu) - 2 * shape.params - 16 * params - OVERHEAD
    choices = [False, True] if checkpointing is None else [checkpointing]
    for ckpt in choices:
        per_token = per_token_bytes(shape, dropout, ckpt)
        tokens = int(budget // per_token) if budget > 0 else 0
        if tokens >= seq_len or ckpt == choices[-1]:
            break
    rows = tokens // seq_len
    if rows < 1:
        raise ConfigError(
            f"one {seq_len}-token row of {shape.name} does not fit on {gpu} "
            f"(about {tokens} tokens would): lower export.max_seq_len or pick a larger GPU",
            key="export.max_seq_len",
        )
    return MemoryPlan(
        gpu,
        seq_len,
        ckpt,
        rows,
        tokens,
        round(2 * shape.params / GIB, 2),
        params,
        round(per_token / 2**20, 3),
        round(budget / GIB, 2),
    )


def batch_schedule(
    micro_rows: int, examples_per_step: int, mean_example_tokens: float, seq_len: int, packed: bool
) -> tuple[int, int]:
    """(micro-batch size, gradient accumulation) for about examples_per_step per optimizer step."""
    if packed:  # one packed row holds about seq_len / mean tokens examples
        rows_per_step = max(1, round(examples_per_step * mean_example_tokens / seq_len))
    else:
        rows_per_step = examples_per_step
    micro = max(1, min(micro_rows, rows_per_step))
    return micro, max(1, math.ceil(rows_per_step / micro))
