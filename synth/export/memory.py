"""A memory model of LoRA fine-tuning on one GPU, for any decoder described by its config.json.

The architecture is read from the model's config.json (synth.export.basemodel): layers L,
hidden size h, heads, KV heads, head_dim, MLP width f, vocabulary V, tied embeddings, plus the
few per-family traits that change the parameter count (Qwen2 q/k/v biases, Qwen3/Gemma-3
q/k norms, Gemma-2/3's four norms per layer). All sizes in bytes, bf16 weights, with attention
widths q = heads*head_dim and kv = kv_heads*head_dim:

  weights       W = 2 * P_base                     (P_base counted from config.json exactly)
  LoRA state    S = s * P_lora, P_lora = r * sum(d_in + d_out) over adapted projections
                    s = 16 for TRL/PEFT (fp32 weight, grad, two Adam moments),
                    s = 8 for LitGPT bf16-true (everything bf16)
  per token, per layer, saved for backward (flash attention: no seq^2 term):
                a = 2 * (10h + 4q + 4kv + 4f)     norms, q/k/v/o, rope, SwiGLU/GeGLU
                  + 3 * D * [dropout > 0]         dropout output (bf16) + mask (bool)
                  + 2 * D * [dropout = 0, TRL]    PEFT casts the LoRA input to fp32 and
                                                   autocast saves the bf16 copy lora_A reads
                where D = sum of d_in of adapted layers
  per token, LM head and loss:
                TRL 1.16 fused LM head (chunked log-probs, never the [T, V] logits):
                    g = 4h + 32, plus a fixed 2 x 4096 x 32768 bf16 tile buffer (0.5 GiB)
                LitGPT (full bf16 logits, fp32 log-softmax per 128-token chunk): g = 6V
  per token without checkpointing:  t = L * a + g
  per token with checkpointing:     t = L * 2h + a + g   (layer inputs kept, one layer
                                                           recomputed at a time)
  fixed F = W + S + head buffer + 1.5 GiB (CUDA context, allocator fragmentation)
  budget B = 0.92 * GPU memory - F;  tokens per micro-batch T = B / t;  rows = floor(T / seq)
  predicted peak = F + rows * seq * t;  headroom = GPU memory - predicted peak

Checkpointing is used only when one row does not fit without it (it costs ~1/3 more compute).
Reference points: LitGPT's resource table (Llama-2-7B, A100-40GB, 1,304-token rows, q/v LoRA:
21.3 GB at micro-batch 1; this model says 22.9 GiB with its full-logits head) and ~25-40k tokens
with checkpointing on 80 GB (reference.md section 4). bench/gpu_lora_step.py measures the
real peak (torch.cuda.max_memory_allocated) against `predicted peak` on a GPU.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from synth.errors import ConfigError

GIB = 1024**3
USABLE = 0.92
OVERHEAD = 1.5 * GIB
FUSED_HEAD_BUFFER = 2 * 4096 * 32768 * 2  # TRL's chunked log-prob tiles, forward and backward
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
Trainer = Literal["trl", "litgpt"]

# GiB that torch sees on each card (total_memory of torch.cuda.get_device_properties)
GPUS_GIB = {
    "H100-80GB": 79.2,
    "H200": 139.8,
    "A100-80GB": 79.2,
    "A100-40GB": 39.4,
    "L40S": 44.4,
    "A10G": 22.0,
    "RTX4090": 23.6,
}
# per model_type traits that change the parameter count beyond config.json's sizes
QKV_BIAS = {"qwen2", "qwen2_moe"}
QK_NORM = {"qwen3", "gemma3", "gemma3_text"}
FOUR_NORMS = {"gemma2", "gemma3", "gemma3_text"}
REQUIRED = ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads",
            "vocab_size")


@dataclass(frozen=True)
class ModelShape:
    name: str
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool = False
    model_type: str = ""
    attention_bias: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any], name: str = "", source: str = "config.json"
                    ) -> ModelShape:
        """The shape of a decoder from its config.json (a text_config inside is used if present)."""
        text = config.get("text_config") or config
        missing = [key for key in REQUIRED if not isinstance(text.get(key), int)]
        if missing:
            raise ConfigError(f"{source} lacks integer field(s) {', '.join(missing)}",
                              file=source, key="export.base_model")
        heads = text["num_attention_heads"]
        return cls(
            name=name or str(config.get("_name_or_path") or text.get("model_type") or "model"),
            layers=text["num_hidden_layers"],
            hidden=text["hidden_size"],
            intermediate=text["intermediate_size"],
            heads=heads,
            kv_heads=text.get("num_key_value_heads") or heads,
            head_dim=text.get("head_dim") or text["hidden_size"] // heads,
            vocab=text["vocab_size"],
            tied=bool(config.get("tie_word_embeddings", text.get("tie_word_embeddings", False))),
            model_type=str(text.get("model_type", config.get("model_type", ""))),
            attention_bias=bool(text.get("attention_bias", False)),
        )

    def linear_dims(self) -> dict[str, tuple[int, int]]:
        """(d_in, d_out) of each projection in one decoder layer."""
        h, q, kv, f = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim, self.intermediate
        return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
                "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h)}

    @property
    def params(self) -> int:
        """Parameters of the whole model, counted as transformers builds it."""
        dims = self.linear_dims()
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        layer = sum(d_in * d_out for d_in, d_out in dims.values())
        if self.model_type in QKV_BIAS:
            layer += q + 2 * kv
        elif self.attention_bias:
            layer += q + 2 * kv + self.hidden
        if self.model_type in QK_NORM:
            layer += 2 * self.head_dim
        layer += (4 if self.model_type in FOUR_NORMS else 2) * self.hidden
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        return self.layers * layer + embeddings + self.hidden  # + final norm


@dataclass(frozen=True)
class MemoryPlan:
    gpu: str
    trainer: str
    seq_len: int
    gradient_checkpointing: bool
    micro_batch_rows: int
    tokens_per_micro_batch: int  # what fits; the plan uses micro_batch_rows * seq_len of it
    params_b: float
    weights_gib: float
    lora_params: int
    per_token_mib: float
    budget_gib: float
    predicted_peak_gib: float
    headroom_gib: float  # GPU memory left at the predicted peak

    def as_dict(self) -> dict[str, float | int | str | bool]:
        return asdict(self)


def lora_params(shape: ModelShape, r: int, targets: tuple[str, ...] = PROJECTIONS) -> int:
    dims = shape.linear_dims()
    return shape.layers * r * sum(dims[t][0] + dims[t][1] for t in targets)


def activation_bytes_per_token_layer(shape: ModelShape, dropout: float,
                                     targets: tuple[str, ...] = PROJECTIONS,
                                     trainer: Trainer = "litgpt") -> int:
    h, f = shape.hidden, shape.intermediate
    q, kv = shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim
    lora_inputs = sum(shape.linear_dims()[t][0] for t in targets)
    if dropout > 0:
        extra = 3 * lora_inputs
    else:
        extra = 2 * lora_inputs if trainer == "trl" else 0
    return 2 * (10 * h + 4 * q + 4 * kv + 4 * f) + extra


def head_bytes_per_token(shape: ModelShape, trainer: Trainer) -> int:
    return 4 * shape.hidden + 32 if trainer == "trl" else 6 * shape.vocab


def per_token_bytes(shape: ModelShape, dropout: float, checkpointing: bool,
                    trainer: Trainer = "trl") -> int:
    layer = activation_bytes_per_token_layer(shape, dropout, trainer=trainer)
    head = head_bytes_per_token(shape, trainer)
    if checkpointing:
        return shape.layers * 2 * shape.hidden + layer + head
    return shape.layers * layer + head


def gpu_bytes(gpu: str) -> float:
    if gpu not in GPUS_GIB:
        raise ConfigError(f"unknown GPU {gpu!r}; known: {', '.join(GPUS_GIB)}", key="export.gpu")
    return GPUS_GIB[gpu] * GIB


def fixed_bytes(shape: ModelShape, r: int, trainer: Trainer) -> float:
    state = (16 if trainer == "trl" else 8) * lora_params(shape, r)
    return 2 * shape.params + state + OVERHEAD + (FUSED_HEAD_BUFFER if trainer == "trl" else 0)


def plan(shape: ModelShape, gpu: str, seq_len: int, r: int, dropout: float,
         checkpointing: bool | None = None, trainer: Trainer = "trl") -> MemoryPlan:
    """Micro-batch rows of seq_len tokens that fit; checkpointing only when needed (None)."""
    total = gpu_bytes(gpu)
    fixed = fixed_bytes(shape, r, trainer)
    budget = USABLE * total - fixed
    choices = [False, True] if checkpointing is None else [checkpointing]
    for ckpt in choices:
        per_token = per_token_bytes(shape, dropout, ckpt, trainer)
        tokens = int(budget // per_token) if budget > 0 else 0
        if tokens >= seq_len:
            break
    rows = tokens // seq_len
    if rows < 1:
        longest = max(0, tokens) // 64 * 64
        raise ConfigError(
            f"one {seq_len}-token row of {shape.name} ({shape.params / 1e9:.2f}B parameters, "
            f"{trainer}) does not fit on {gpu} (about {tokens} tokens would"
            + (f"; export.max_seq_len {longest} would fit)" if longest >= 64 else ")")
            + ": lower export.max_seq_len or pick a larger GPU (export.gpu)",
            key="export.max_seq_len")
    peak = fixed + rows * seq_len * per_token
    return MemoryPlan(gpu, trainer, seq_len, ckpt, rows, tokens, round(shape.params / 1e9, 3),
                      round(2 * shape.params / GIB, 2), lora_params(shape, r),
                      round(per_token / 2**20, 3), round(budget / GIB, 2), round(peak / GIB, 2),
                      round((total - peak) / GIB, 2))


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
